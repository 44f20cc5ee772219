//! The `models` module: structs, enums that keep unknown values, and aliases.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::docs::{doc, written_as};
use crate::model::{Api, Field, Ty, TypeDef, TypeKind};

/// A Rust identifier, raw when it is a keyword (`r#type`).
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// The tokens of a type; `models` is the path to the version's models module.
pub fn ty_tokens(ty: &Ty, models: &TokenStream) -> TokenStream {
    match ty {
        Ty::String => quote!(String),
        Ty::Bool => quote!(bool),
        Ty::I8 => quote!(i8),
        Ty::I16 => quote!(i16),
        Ty::I32 => quote!(i32),
        Ty::I64 => quote!(i64),
        Ty::U8 => quote!(u8),
        Ty::U16 => quote!(u16),
        Ty::U32 => quote!(u32),
        Ty::U64 => quote!(u64),
        Ty::F32 => quote!(f32),
        Ty::F64 => quote!(f64),
        Ty::Value => quote!(serde_json::Value),
        Ty::Named(name) => {
            let name = ident(name);
            quote!(#models::#name)
        }
        Ty::Vec(inner) => {
            let inner = ty_tokens(inner, models);
            quote!(Vec<#inner>)
        }
        Ty::Map(inner) => {
            let inner = ty_tokens(inner, models);
            quote!(std::collections::HashMap<String, #inner>)
        }
        Ty::Nullable(inner) => {
            let inner = ty_tokens(inner, models);
            quote!(Option<#inner>)
        }
        Ty::Runtime(path) => {
            let segments = path.split("::").map(ident);
            quote!(crate #(::#segments)*)
        }
    }
}

/// The `models` module of a version.
pub fn models(api: &Api) -> TokenStream {
    let boxed = boxed_fields(&api.types);
    let models = quote!(self);
    let items = api.types.iter().map(|t| type_def(t, &boxed, &models));
    quote! {
        /// The types of this version's requests and responses: the spec's definitions, and
        /// inline schemas named after their place.
        pub mod models {
            #(#items)*
        }
    }
}

fn type_def(
    def: &TypeDef,
    boxed: &BTreeSet<(String, String)>,
    models: &TokenStream,
) -> TokenStream {
    let name = ident(&def.name);
    let mut origin = format!(" Spec: `{}`.", def.origin);
    if !def.merged.is_empty() {
        let names: Vec<String> = def.merged.iter().map(|n| format!("[`{n}`]")).collect();
        origin += &format!(
            " The same shape is also named {}: one type.",
            names.join(", ")
        );
    }
    let docs = doc(def.doc.as_deref());
    let docs = if docs.is_empty() {
        quote!(#[doc = #origin])
    } else {
        quote!(#docs #[doc = ""] #[doc = #origin])
    };
    match &def.kind {
        TypeKind::Struct(fields) => {
            let members = fields.iter().map(|f| {
                field(
                    f,
                    boxed.contains(&(def.name.clone(), f.name.clone())),
                    models,
                )
            });
            let serde_impls = object_impls(&name, fields);
            let extra = quote! {
                /// The keys the engine sent that this version's spec does not name (a newer
                /// engine's fields, an older one's since removed), kept as sent and written
                /// back after the known fields, so that they reach you and survive
                /// decode → modify → send.
                pub extra: crate::Extra,
            };
            let secret = |f: &Field| f.secret;
            if !fields.iter().any(secret) {
                return quote! {
                    #docs
                    #[derive(Debug, Clone, Default, PartialEq)]
                    pub struct #name {
                        #(#members)*
                        #extra
                    }
                    #serde_impls
                };
            }
            let debug_fields = fields.iter().map(|f| {
                let member = ident(&f.rust_name);
                let label = f.rust_name.trim_start_matches("r#");
                if secret(f) {
                    quote!(.field(#label, &crate::redact::Redacted(&self.#member)))
                } else {
                    quote!(.field(#label, &self.#member))
                }
            });
            let type_name = def.name.as_str();
            let debug_fields = debug_fields.chain(std::iter::once(
                quote!(.field("extra", &crate::redact::Redacted(&self.extra))),
            ));
            quote! {
                #docs
                #[doc = ""]
                #[doc = " Its `Debug` hides the credentials it holds."]
                #[derive(Clone, Default, PartialEq)]
                pub struct #name {
                    #(#members)*
                    #extra
                }
                #[allow(deprecated)] // fields only earlier specs have
                impl std::fmt::Debug for #name {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.debug_struct(#type_name) #(#debug_fields)* .finish()
                    }
                }
                #serde_impls
            }
        }
        TypeKind::Enum(values) => {
            let variants = values.iter().map(|v| {
                let variant = ident(&v.variant);
                let value = &v.value;
                let vdoc = format!(" `{value}`");
                quote!(#[doc = #vdoc] #variant = #value,)
            });
            quote! {
                crate::string_enum! {
                    #docs
                    pub enum #name {
                        #(#variants)*
                    }
                }
            }
        }
        TypeKind::Alias(ty) => {
            let ty = ty_tokens(ty, models);
            quote! {
                #docs
                pub type #name = #ty;
            }
        }
    }
}

fn field(f: &Field, boxed: bool, models: &TokenStream) -> TokenStream {
    let name = ident(&f.rust_name);
    let json_name = format!(" JSON: `{}`.{}", f.name, written_as(&f.rust_name));
    let docs = doc(f.doc.as_deref());
    let docs = if docs.is_empty() {
        quote!(#[doc = #json_name])
    } else {
        quote!(#docs #[doc = ""] #[doc = #json_name])
    };
    let docs = match &f.deprecated {
        Some(note) => {
            let line = format!(" **Deprecated**: {note}.");
            quote!(#docs #[doc = ""] #[doc = #line] #[deprecated(note = #note)])
        }
        None => docs,
    };
    let mut ty = ty_tokens(&f.ty, models);
    if boxed {
        ty = quote!(Box<#ty>);
    }
    if f.optional {
        quote!(#docs pub #name: Option<#ty>,)
    } else {
        quote!(#docs pub #name: #ty,)
    }
}

/// `Serialize` and `Deserialize` written out instead of derived: a JSON object read key by
/// key into a default value, and written field by field. serde's derive emits several
/// times more code per field (a field enum, a sequence visitor, per-field state), and
/// compiling that was most of berth's own build time. The behaviour is the derive's with
/// `default` on every field: unknown keys are skipped, a missing key leaves the default,
/// and `None` is not written; keys the type does not name go to its `extra` map and are
/// written back after the known fields.
fn object_impls(name: &Ident, fields: &[Field]) -> TokenStream {
    let expecting = format!("a {name} object");
    let reads = fields.iter().map(|f| {
        let member = ident(&f.rust_name);
        let keys = std::iter::once(&f.name).chain(&f.aliases);
        // Daemons send one string where the spec says a list of them (Entrypoint, Cmd),
        // and `null` for required values (arrays and maps above all).
        let string_list = f.ty == Ty::Vec(Box::new(Ty::String));
        let read = match (f.optional, string_list) {
            (true, true) => quote!(map.next_value::<crate::de::OptionalStringList>()?.0),
            (true, false) => quote!(map.next_value()?),
            (false, true) => quote!(map.next_value::<crate::de::StringList>()?.0),
            (false, false) => quote!(map.next_value::<crate::de::NullAsDefault<_>>()?.0),
        };
        quote!(#(#keys)|* => self.#member = #read,)
    });
    let writes = fields.iter().map(|f| {
        let member = ident(&f.rust_name);
        let key = &f.name;
        if f.optional {
            quote!(if let Some(value) = &self.#member { map.serialize_entry(#key, value)?; })
        } else {
            quote!(map.serialize_entry(#key, &self.#member)?;)
        }
    });
    let read_body = if fields.is_empty() {
        quote!(let _ = (key, map); Ok(false))
    } else {
        quote! {
            match key {
                #(#reads)*
                _ => return Ok(false),
            }
            Ok(true)
        }
    };
    let write_body = quote! {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        #(#writes)*
        for (key, value) in self.extra.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    };
    // Fields only earlier specs have are `#[deprecated]`; the type's own impls use them.
    let allow = fields
        .iter()
        .any(|f| f.deprecated.is_some())
        .then(|| quote!(#[allow(deprecated)]));
    quote! {
        #allow
        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #write_body
            }
        }
        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::de::object(deserializer)
            }
        }
        #allow
        impl crate::de::Object for #name {
            const EXPECTING: &'static str = #expecting;
            fn extra(&mut self) -> &mut crate::Extra {
                &mut self.extra
            }
            fn read_field<'de, A: serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
                #read_body
            }
        }
    }
}

/// Fields that hold a named type directly (not through a Vec or map) on a cycle of such
/// fields: they must be boxed, or the type would have infinite size.
fn boxed_fields(types: &[TypeDef]) -> BTreeSet<(String, String)> {
    let mut edges: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for def in types {
        if let TypeKind::Struct(fields) = &def.kind {
            for f in fields {
                if let Ty::Named(target) = &f.ty {
                    edges
                        .entry(&def.name)
                        .or_default()
                        .push((target.as_str(), f.name.as_str()));
                }
            }
        }
    }
    // Aliases to named types are direct containment too.
    let aliases: BTreeMap<&str, &str> = types
        .iter()
        .filter_map(|d| match &d.kind {
            TypeKind::Alias(Ty::Named(target)) => Some((d.name.as_str(), target.as_str())),
            _ => None,
        })
        .collect();
    fn resolve<'a>(aliases: &BTreeMap<&'a str, &'a str>, mut name: &'a str) -> &'a str {
        let mut hops = 0;
        while let Some(next) = aliases.get(name) {
            name = next;
            hops += 1;
            if hops > 32 {
                break;
            }
        }
        name
    }
    let reaches = |from: &str, to: &str| -> bool {
        let mut stack = vec![resolve(&aliases, from)];
        let mut seen = BTreeSet::new();
        while let Some(node) = stack.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node) {
                for (target, _) in edges.get(node).into_iter().flatten() {
                    stack.push(resolve(&aliases, target));
                }
            }
        }
        false
    };
    let mut boxed = BTreeSet::new();
    for (from, targets) in &edges {
        for (target, field) in targets {
            if reaches(target, from) {
                boxed.insert((from.to_string(), field.to_string()));
            }
        }
    }
    boxed
}
