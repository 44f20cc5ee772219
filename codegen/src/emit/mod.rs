//! Stage 4: the model becomes Rust tokens (quote), then text (prettyplease).
//!
//! One file per engine version, holding `API`, `models` and one module per category
//! (namespaced categories under their namespace: `libpod::containers`).

mod docs;
mod operations;
mod tables;
mod types;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Api;
use crate::naming::{module, Scope};

pub use docs::sanitize as sanitize_doc;

/// The tokens of a version's module body.
pub fn tokens(api: &Api) -> TokenStream {
    let mut info_scope = Scope::new();
    info_scope.reserve("API");
    let mut rows = Vec::new();
    // Every operation with its response type, for the flat `ops` module.
    let mut flat: Vec<TokenStream> = Vec::new();
    let mut flat_names = std::collections::BTreeSet::new();
    // namespace → category modules
    let mut namespaces: BTreeMap<Option<String>, Vec<TokenStream>> = BTreeMap::new();
    for (category, ops) in api.categories() {
        let infos: Vec<String> = ops
            .iter()
            .map(|op| operations::info_name(op, &mut info_scope))
            .collect();
        let module_ident = types::ident(&module(&category.name));
        let body = operations::category(&category, &ops, &infos, &api.engine);
        let path = match &category.namespace {
            Some(ns) => {
                let ns = types::ident(&module(ns));
                quote!(#ns::#module_ident)
            }
            None => quote!(#module_ident),
        };
        for info in &infos {
            let info = quote::format_ident!("{}", info);
            rows.push(quote!(#path::#info));
        }
        for op in &ops {
            // Operation ids are unique in a spec; should two categories ever share one,
            // the first keeps the flat name and the other stays reachable by category.
            if flat_names.insert(op.id.clone()) {
                let name = types::ident(&op.id);
                let response = quote::format_ident!("{}Response", op.id);
                flat.push(quote!(pub use super::#path::{#name, #response};));
            }
        }
        namespaces
            .entry(category.namespace.clone())
            .or_default()
            .push(quote! {
                pub mod #module_ident {
                    #body
                }
            });
    }
    let mut modules = TokenStream::new();
    for (namespace, items) in namespaces {
        match namespace {
            None => modules.extend(items),
            Some(ns) => {
                let ns_ident = types::ident(&module(&ns));
                let ns_doc = format!(" The engine's own `/{ns}` API.");
                modules.extend(quote! {
                    #[doc = #ns_doc]
                    pub mod #ns_ident {
                        #(#items)*
                    }
                });
            }
        }
    }
    let api_static = tables::api_static(api, &rows);
    let round_trip = operations::round_trip(api);
    let models = types::models(api);
    let ops_doc = format!(
        " Every operation of the {} API {} in one place, with its response type: \
         `ops::{}` is the same type as in its category's module.",
        api.engine,
        api.version,
        api.operations
            .first()
            .map(|op| op.id.as_str())
            .unwrap_or("X")
    );
    quote! {
        #api_static
        #round_trip
        #models
        #[doc = #ops_doc]
        pub mod ops {
            #(#flat)*
        }
        #modules
    }
}

/// The formatted text of a version's module body.
pub fn text(api: &Api) -> Result<String, String> {
    let tokens = tokens(api);
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}
