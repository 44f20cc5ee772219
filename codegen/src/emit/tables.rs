//! The data-driven tables: one static `OperationInfo` per operation (beside its request
//! struct) and the version's `API` listing them all. Plain static data: cheap to compile.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Api, Body, Encoding, Location, Method, Operation, ResponseKind};

/// `pub static CONTAINER_CREATE: crate::OperationInfo = ...;`
pub fn info_static(op: &Operation, name: &Ident, root: &TokenStream) -> TokenStream {
    let id = &op.id;
    let category = op.category.qualified();
    let method = format_ident!(
        "{}",
        match op.method {
            Method::Get => "Get",
            Method::Post => "Post",
            Method::Put => "Put",
            Method::Delete => "Delete",
            Method::Head => "Head",
            Method::Patch => "Patch",
            Method::Options => "Options",
        }
    );
    let path = &op.path;
    let summary = op.summary.as_deref().unwrap_or_default().trim();
    let doc_url = &op.doc_url;
    let deprecated = op.deprecated;
    let fixed_prefix = match &op.fixed_prefix {
        Some(prefix) => quote!(Some(#prefix)),
        None => quote!(None),
    };
    let params = op.params.iter().map(|p| {
        let name = &p.name;
        let location = format_ident!(
            "{}",
            match p.location {
                Location::Path => "Path",
                Location::Query => "Query",
                Location::Header => "Header",
            }
        );
        let encoding = format_ident!(
            "{}",
            match p.encoding {
                Encoding::Plain => "Plain",
                Encoding::Json => "Json",
                Encoding::JsonEach => "JsonEach",
                Encoding::Base64Json => "Base64Json",
            }
        );
        let required = p.required;
        let schema = &p.schema_text;
        quote! {
            crate::ParamInfo {
                name: #name,
                location: crate::ParamLocation::#location,
                required: #required,
                schema: #schema,
                encoding: crate::ParamEncoding::#encoding,
            },
        }
    });
    let body = match &op.body {
        None => quote!(crate::BodyInfo::None),
        Some(Body::Json {
            content_type,
            required,
            ..
        }) => {
            quote!(crate::BodyInfo::Json { content_type: #content_type, required: #required })
        }
        Some(Body::Bytes {
            content_type,
            required,
            ..
        }) => {
            quote!(crate::BodyInfo::Bytes { content_type: #content_type, required: #required })
        }
    };
    let response = format_ident!(
        "{}",
        match op.kind {
            ResponseKind::Json => "Buffered",
            ResponseKind::Bytes => "Bytes",
            ResponseKind::JsonLines(_) => "JsonLines",
            ResponseKind::Frames => "Frames",
            ResponseKind::Upgrade => "Upgrade",
            ResponseKind::WebSocket => "WebSocket",
        }
    );
    let success = op.success().into_iter().map(|r| r.status);
    let row_doc = format!(" The table row of [`{id}`]: what the data-driven API knows of it.");
    quote! {
        #[doc = #row_doc]
        pub static #name: crate::OperationInfo = crate::OperationInfo {
            api: &#root::API,
            id: #id,
            category: #category,
            method: crate::Method::#method,
            path: #path,
            summary: #summary,
            doc_url: #doc_url,
            params: &[#(#params)*],
            body: #body,
            response: crate::ResponseKind::#response,
            success: &[#(#success),*],
            deprecated: #deprecated,
            fixed_prefix: #fixed_prefix,
        };
    }
}

/// `pub static API: crate::ApiInfo = ...;` listing every operation's row.
pub fn api_static(api: &Api, rows: &[TokenStream]) -> TokenStream {
    let engine = &api.engine;
    let version = &api.version;
    let prefix = &api.prefix;
    let title = &api.title;
    let doc = format!(
        " The {engine} API {version}: every operation's table row, for the data-driven API."
    );
    quote! {
        #[doc = #doc]
        pub static API: crate::ApiInfo = crate::ApiInfo {
            engine: #engine,
            version: #version,
            prefix: #prefix,
            title: #title,
            operations: &[#(&#rows),*],
        };
    }
}
