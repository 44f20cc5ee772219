//! The `models` module: structs, enums that keep unknown values, and aliases.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::docs::doc;
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
    let origin = format!(" Spec: `{}`.", def.origin);
    let docs = doc(def.doc.as_deref());
    let docs = if docs.is_empty() {
        quote!(#[doc = #origin])
    } else {
        quote!(#docs #[doc = ""] #[doc = #origin])
    };
    match &def.kind {
        TypeKind::Struct(fields) => {
            let fields = fields.iter().map(|f| {
                field(
                    f,
                    boxed.contains(&(def.name.clone(), f.name.clone())),
                    models,
                )
            });
            quote! {
                #docs
                #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
                pub struct #name {
                    #(#fields)*
                }
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
    let json_name = &f.name;
    let aliases = &f.aliases;
    let mut docs = doc(f.doc.as_deref());
    docs.extend(quote!(#(#[serde(alias = #aliases)])*));
    let mut ty = ty_tokens(&f.ty, models);
    if boxed {
        ty = quote!(Box<#ty>);
    }
    // Daemons send one string where the spec says a list of them (Entrypoint, Cmd).
    let string_list = f.ty == Ty::Vec(Box::new(Ty::String));
    if f.optional && string_list {
        quote! {
            #docs
            #[serde(rename = #json_name, default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::de::optional_string_or_list")]
            pub #name: Option<#ty>,
        }
    } else if f.optional {
        quote! {
            #docs
            #[serde(rename = #json_name, default, skip_serializing_if = "Option::is_none")]
            pub #name: Option<#ty>,
        }
    } else if string_list {
        quote! {
            #docs
            #[serde(rename = #json_name, default, deserialize_with = "crate::de::string_or_list")]
            pub #name: #ty,
        }
    } else {
        // Daemons send `null` for required values too (arrays and maps above all).
        quote! {
            #docs
            #[serde(rename = #json_name, default, deserialize_with = "crate::de::null_as_default")]
            pub #name: #ty,
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
