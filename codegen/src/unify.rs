//! Stage 3½: one type per shape, and no name numbered for a collision that was never a
//! difference.
//!
//! The specs write one shape many times: a request body that is a definition plus an
//! example (`ServiceCreate`'s body is `ServiceSpec`), two statuses' answers written out twice
//! (Podman's `SecretCreate`, 200 and 201), two definitions of one Go type (`IDResponse`, a
//! `$ref` to `IdResponse`). `lower` gives each place a type; here every group of one shape
//! becomes one type, so that what an inspect returns can be sent back to an update:
//!
//! - one member, the keeper, stays the struct or enum: the spec's own definition before a
//!   type named after its place, then the first by name;
//! - a member whose name says something (a spec definition, a place) stays as
//!   `pub type Name = Keeper;`, so fields and bodies still read as the spec writes them;
//! - a member whose name was only lower's way out of a collision (a number, or the second
//!   status of one operation's answer) goes, and what used it uses the keeper; a name it
//!   freed is given back (`SecretCreateResponse201` and `200` become
//!   `SecretCreateResponse`).
//!
//! Two types are one shape when they serialize alike: structs with the same fields (JSON
//! name, type, optionality, accepted aliases, deprecation, secrecy) in the same order, enums
//! with the same values. Docs do not count. Grouping repeats until nothing changes, since
//! two structs become one shape once the types of their fields are one.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::{Api, Body, ResponseKind, Ty, TypeDef, TypeKind};
use crate::naming::{pascal, Scope};

const SCHEMAS: &str = "#/components/schemas/";
const INLINE: &str = "inline: ";

pub fn unify(mut api: Api) -> Api {
    drop_colliding_references(&mut api);
    drop_unused_stubs(&mut api);
    loop {
        let groups = same_shape_groups(&api);
        if groups.is_empty() {
            break;
        }
        merge(&mut api, &groups);
    }
    rename_freed(&mut api);
    api
}

/// The groups of two or more structs or enums of one shape (none, once unified).
pub fn shared_shapes(api: &Api) -> Vec<Vec<&str>> {
    same_shape_groups(api)
        .into_iter()
        .map(|group| group.iter().map(|&i| api.types[i].name.as_str()).collect())
        .collect()
}

fn same_shape_groups(api: &Api) -> Vec<Vec<usize>> {
    let aliases = alias_targets(&api.types);
    let mut groups: BTreeMap<Shape, Vec<usize>> = BTreeMap::new();
    for (index, def) in api.types.iter().enumerate() {
        if let Some(shape) = shape(def, &aliases) {
            groups.entry(shape).or_default().push(index);
        }
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// The name a type asks for: a definition its spec name, an inline type its place.
fn wanted_name(def: &TypeDef) -> String {
    match (
        def.origin.strip_prefix(SCHEMAS),
        def.origin.strip_prefix(INLINE),
    ) {
        (Some(schema), _) => pascal(schema),
        (None, Some(place)) => place.to_string(),
        (None, None) => def.name.clone(),
    }
}

/// A definition that is only a `$ref`, whose name another definition also asks for, has
/// nothing to say: Podman's `IDResponse` (→ `IdResponse`) and `networkCreate`
/// (→ `NetworkCreateRequest`, beside a `NetworkCreate` of its own) numbered the names of
/// the types they stood beside. They go; what used them uses their target.
fn drop_colliding_references(api: &mut Api) {
    let mut wanted: HashMap<String, usize> = HashMap::new();
    for def in &api.types {
        *wanted.entry(wanted_name(def)).or_default() += 1;
    }
    let aliases = alias_targets(&api.types);
    let gone: HashMap<String, String> = api
        .types
        .iter()
        .filter(|def| matches!(def.kind, TypeKind::Alias(Ty::Named(_))))
        .filter(|def| wanted[&wanted_name(def)] > 1)
        .filter_map(|def| Some((def.name.clone(), aliases.get(&def.name)?.clone())))
        .collect();
    remove(api, &gone);
}

/// A definition with no content (`serde_json::Value`) that nothing uses gives way: Podman
/// 4.9's spec names `ImageDeleteResponseItem` with a description only, while its ImageDelete
/// answer writes the item out, which then had to be `ImageDeleteResponseItem2`.
fn drop_unused_stubs(api: &mut Api) {
    let mut used = HashSet::new();
    visit_tys(api, &mut |ty| {
        if let Ty::Named(name) = ty {
            used.insert(name.clone());
        }
    });
    api.types
        .retain(|def| !matches!(def.kind, TypeKind::Alias(Ty::Value)) || used.contains(&def.name));
}

/// Each alias of a named type, followed to the type at the end of its chain.
fn alias_targets(types: &[TypeDef]) -> HashMap<String, String> {
    let direct: HashMap<&str, &str> = types
        .iter()
        .filter_map(|def| match &def.kind {
            TypeKind::Alias(Ty::Named(target)) => Some((def.name.as_str(), target.as_str())),
            _ => None,
        })
        .collect();
    direct
        .keys()
        .filter_map(|&start| {
            let mut seen = HashSet::from([start]);
            let mut at = direct[start];
            while let Some(&next) = direct.get(at) {
                if !seen.insert(at) {
                    return None; // a cycle stays as the spec wrote it
                }
                at = next;
            }
            Some((start.to_string(), at.to_string()))
        })
        .collect()
}

/// How a type serializes, with the names it refers to resolved through aliases.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Struct(Vec<FieldShape>),
    Enum(Vec<String>),
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct FieldShape {
    name: String,
    ty: Ty,
    optional: bool,
    aliases: Vec<String>,
    deprecated: bool,
    secret: bool,
}

fn shape(def: &TypeDef, aliases: &HashMap<String, String>) -> Option<Shape> {
    match &def.kind {
        TypeKind::Struct(fields) => Some(Shape::Struct(
            fields
                .iter()
                .map(|f| {
                    let mut ty = f.ty.clone();
                    walk(&mut ty, &mut |t| rename(t, aliases));
                    FieldShape {
                        name: f.name.clone(),
                        ty,
                        optional: f.optional,
                        aliases: f.aliases.clone(),
                        deprecated: f.deprecated.is_some(),
                        secret: f.secret,
                    }
                })
                .collect(),
        )),
        TypeKind::Enum(values) => Some(Shape::Enum(
            values.iter().map(|v| v.value.clone()).collect(),
        )),
        // An alias is no type of its own.
        TypeKind::Alias(_) => None,
    }
}

/// Makes each group one type: the keeper stays, the others become its aliases or go.
fn merge(api: &mut Api, groups: &[Vec<usize>]) {
    let mut gone = HashMap::new();
    for group in groups {
        let keeper = *group
            .iter()
            .min_by_key(|&&i| {
                let def = &api.types[i];
                (!def.origin.starts_with(SCHEMAS), def.name.clone())
            })
            .expect("a group has members");
        let keeper_name = api.types[keeper].name.clone();
        // One type per operation's answer: of `XResponse200` and `XResponse201`, one name
        // is left, to become `XResponse`.
        let mut answers: HashMap<String, String> = HashMap::new();
        if let Some(base) = status_free(&keeper_name) {
            answers.insert(base.to_string(), keeper_name.clone());
        }
        for &member in group.iter().filter(|&&i| i != keeper) {
            let def = &mut api.types[member];
            let answer = status_free(&def.name).map(str::to_string);
            let kept = match &answer {
                Some(base) => answers.get(base).cloned(),
                None if def.name != wanted_name(def) => Some(keeper_name.clone()),
                None => None,
            };
            match kept {
                Some(kept) => {
                    gone.insert(def.name.clone(), kept);
                }
                None => {
                    def.kind = TypeKind::Alias(Ty::Named(keeper_name.clone()));
                    let alias = def.name.clone();
                    if let Some(base) = answer {
                        answers.insert(base, alias.clone());
                    }
                    api.types[keeper].merged.push(alias);
                }
            }
        }
    }
    remove(api, &gone);
}

/// Removes the types named in `gone` and points what used them at their replacement.
fn remove(api: &mut Api, gone: &HashMap<String, String>) {
    if gone.is_empty() {
        return;
    }
    api.types.retain(|def| !gone.contains_key(&def.name));
    visit_tys(api, &mut |ty| rename(ty, gone));
}

fn rename(ty: &mut Ty, names: &HashMap<String, String>) {
    if let Ty::Named(name) = ty {
        if let Some(new) = names.get(name) {
            *name = new.clone();
        }
    }
}

/// Names are handed out again, in order, each type taking the one it asks for when free;
/// an answer written per status (`SecretCreateResponse201`) takes its operation's answer
/// name once no other status of it has a type left. A name a type kept only because the
/// one it asked for was taken (`IdResponse2`) is free of the number now.
fn rename_freed(api: &mut Api) {
    let mut per_operation: HashMap<String, usize> = HashMap::new();
    for def in &api.types {
        if let Some(base) = def.origin.strip_prefix(INLINE).and_then(status_free) {
            *per_operation.entry(base.to_string()).or_default() += 1;
        }
    }
    let mut scope = Scope::new();
    let mut renames = HashMap::new();
    for def in &api.types {
        let mut wanted = wanted_name(def);
        if let Some(base) = status_free(&wanted) {
            if per_operation[base] == 1 {
                wanted = base.to_string();
            }
        }
        let name = if scope.reserve(&wanted) {
            wanted
        } else {
            scope.unique(&def.name)
        };
        if name != def.name {
            renames.insert(def.name.clone(), name);
        }
    }
    for def in &mut api.types {
        if let Some(new) = renames.get(&def.name) {
            def.name = new.clone();
        }
        for alias in &mut def.merged {
            if let Some(new) = renames.get(alias) {
                *alias = new.clone();
            }
        }
    }
    visit_tys(api, &mut |ty| rename(ty, &renames));
}

/// `SecretCreateResponse201` → `SecretCreateResponse`: `lower` adds the status only when
/// several statuses of an operation carry a body.
fn status_free(place: &str) -> Option<&str> {
    let base = place.trim_end_matches(|c: char| c.is_ascii_digit());
    (base.ends_with("Response") && place.len() - base.len() == 3).then_some(base)
}

/// Calls `f` on every type an API mentions, innermost first: fields, aliases, parameters,
/// bodies, answers, answer headers, streamed items.
fn visit_tys(api: &mut Api, f: &mut impl FnMut(&mut Ty)) {
    for def in &mut api.types {
        match &mut def.kind {
            TypeKind::Struct(fields) => fields.iter_mut().for_each(|x| walk(&mut x.ty, f)),
            TypeKind::Alias(ty) => walk(ty, f),
            TypeKind::Enum(_) => {}
        }
    }
    for op in &mut api.operations {
        for param in &mut op.params {
            walk(&mut param.ty, f);
        }
        if let Some(Body::Json { ty, .. }) = &mut op.body {
            walk(ty, f);
        }
        for response in &mut op.responses {
            if let Some(ty) = &mut response.ty {
                walk(ty, f);
            }
            for header in &mut response.headers {
                walk(&mut header.ty, f);
            }
        }
        if let ResponseKind::JsonLines(ty) = &mut op.kind {
            walk(ty, f);
        }
    }
}

fn walk(ty: &mut Ty, f: &mut impl FnMut(&mut Ty)) {
    if let Ty::Vec(inner) | Ty::Map(inner) | Ty::Nullable(inner) = ty {
        walk(inner, f);
    }
    f(ty);
}
