//! A category module: per operation, the request struct, its response type, its
//! `OperationInfo` (the data-driven table row) and its `Operation` impl.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs::{doc, doc_attrs, sanitize, written_as};
use super::types::{ident, ty_tokens};
use crate::model::{
    Api, Body, Category, Encoding, Location, Operation, Response, ResponseKind, Ty,
};
use crate::naming::{snake, Scope};

/// The name of an operation's `OperationInfo` static (`CONTAINER_CREATE`).
pub fn info_name(op: &Operation, scope: &mut Scope) -> String {
    scope.unique(&snake(&op.id).trim_start_matches("r#").to_ascii_uppercase())
}

/// One category module; `infos` are the static names chosen by `info_name`, in order.
pub fn category(
    category: &Category,
    ops: &[&Operation],
    infos: &[String],
    engine: &str,
) -> TokenStream {
    let depth = if category.namespace.is_some() { 2 } else { 1 };
    let supers = (0..depth).map(|_| quote!(super));
    let root = quote!(#(#supers)::*);
    let models = quote!(#root::models);
    let items = ops
        .iter()
        .zip(infos)
        .map(|(op, info)| operation(op, info, &models, &root));
    let mut module_doc = vec![format!(
        " `{}` operations of the {engine} API (the original's category `{}`):",
        category.qualified(),
        category.qualified()
    )];
    module_doc.push(String::new());
    for op in ops {
        let summary = op
            .summary
            .as_deref()
            .map(|s| sanitize(s.trim()).replace('\n', " "))
            .unwrap_or_default();
        module_doc.push(format!(
            " - [`{}`] `{} {}`{}{}",
            op.id,
            op.method.as_str(),
            op.path,
            if summary.is_empty() { "" } else { ": " },
            summary
        ));
    }
    quote! {
        #(#![doc = #module_doc])*
        #(#items)*
    }
}

fn operation(op: &Operation, info: &str, models: &TokenStream, root: &TokenStream) -> TokenStream {
    let name = ident(&op.id);
    let info_ident = format_ident!("{}", info);
    let response_name = format_ident!("{}Response", op.id);

    let mut text = String::new();
    if let Some(summary) = &op.summary {
        text.push_str(summary.trim());
        text.push_str("\n\n");
    }
    if let Some(description) = &op.description {
        if Some(description) != op.summary.as_ref() {
            text.push_str(description.trim());
            text.push_str("\n\n");
        }
    }
    let mut docs = doc_attrs(&sanitize(&text));
    let link = format!(
        " `{} {}` — [API reference]({})",
        op.method.as_str(),
        op.path,
        op.doc_url
    );
    docs.extend(quote!(#[doc = #link]));
    if op.deprecated {
        docs.extend(quote!(#[doc = ""] #[doc = " Deprecated by the engine."]));
    }

    let has_stream_body = matches!(op.body, Some(Body::Bytes { .. }));
    let derives = if has_stream_body {
        quote!(#[derive(Debug, Default)])
    } else {
        quote!(#[derive(Debug, Clone, Default, PartialEq)])
    };

    let fields = op.params.iter().map(|p| {
        let fname = ident(&p.rust_name);
        let ty = ty_tokens(&p.ty, models);
        let ty = if p.required { ty } else { quote!(Option<#ty>) };
        let pdoc = doc(p.doc.as_deref());
        let place = format!(
            " {} parameter `{}`.{}",
            capitalize(p.location.as_str()),
            p.name,
            written_as(&p.rust_name)
        );
        let separator = if pdoc.is_empty() {
            quote!()
        } else {
            quote!(#[doc = ""])
        };
        quote!(#pdoc #separator #[doc = #place] pub #fname: #ty,)
    });
    let body_field = op.body.as_ref().map(|b| match b {
        Body::Json {
            ty,
            required,
            doc: d,
            ..
        } => {
            let ty = ty_tokens(ty, models);
            let ty = if *required { ty } else { quote!(Option<#ty>) };
            let bdoc = doc(d.as_deref());
            quote!(#bdoc #[doc = " The JSON request body."] pub body: #ty,)
        }
        Body::Bytes {
            required,
            content_type,
            doc: d,
        } => {
            let bdoc = doc(d.as_deref());
            let line = format!(" The request body, streamed as `{content_type}`.");
            let ty = if *required {
                quote!(crate::Body)
            } else {
                quote!(Option<crate::Body>)
            };
            quote!(#bdoc #[doc = #line] pub body: #ty,)
        }
    });

    let writes = op.params.iter().map(|p| {
        let fname = ident(&p.rust_name);
        let wire = &p.name;
        let call = match (p.location, p.encoding) {
            (Location::Path, _) => quote!(path),
            (Location::Query, Encoding::Json) => quote!(query_json),
            (Location::Query, Encoding::JsonEach) => quote!(query_json_each),
            (Location::Query, _) => quote!(query),
            (Location::Header, _) => quote!(header),
        };
        if p.required {
            quote!(request.#call(#wire, &self.#fname);)
        } else {
            quote!(if let Some(value) = &self.#fname { request.#call(#wire, value); })
        }
    });
    let body_write = op.body.as_ref().map(|b| {
        let (call, required) = match b {
            Body::Json { required, .. } => (quote!(json_body(&body)), *required),
            Body::Bytes { required, .. } => (quote!(body(body)), *required),
        };
        if required {
            quote!(let body = self.body; request.#call;)
        } else {
            quote!(if let Some(body) = self.body { request.#call; })
        }
    });

    let (output, response_item, decode) = response(op, &response_name, models);
    let info_static = super::tables::info_static(op, &info_ident, root);

    quote! {
        #docs
        #derives
        pub struct #name {
            #(#fields)*
            #body_field
        }

        #response_item

        #info_static

        impl crate::Operation for #name {
            type Output = #output;
            const INFO: &'static crate::OperationInfo = &#info_ident;

            // Inline: codegen happens only in the crates that call the operation, so the
            // decoders of the operations a program never uses are never compiled.
            #[inline]
            #[allow(unused_variables)]
            fn write(self, request: &mut crate::RequestParts) {
                #(#writes)*
                #body_write
            }

            #[inline]
            fn decode(response: crate::RawResponse) -> crate::Result<Self::Output> {
                #decode
            }
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The output type, the response item (alias or enum) and the body of `decode`.
fn response(
    op: &Operation,
    response_name: &proc_macro2::Ident,
    models: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    let doc_line = format!(" What [`{}`] answers.", op.id);
    let (ty, decode) = match &op.kind {
        ResponseKind::Bytes => (
            quote!(crate::ByteStream),
            quote!(Ok(response.into_byte_stream())),
        ),
        ResponseKind::Frames => (
            quote!(crate::Multiplexed),
            quote!(Ok(response.into_multiplexed())),
        ),
        ResponseKind::Upgrade => (quote!(crate::Upgraded), quote!(response.into_upgraded())),
        ResponseKind::WebSocket => (quote!(crate::WebSocket), quote!(response.into_websocket())),
        ResponseKind::JsonLines(item) => {
            let item = ty_tokens(item, models);
            (
                quote!(crate::JsonLines<#item>),
                quote!(Ok(response.into_json_lines())),
            )
        }
        ResponseKind::Json => {
            let success = op.success();
            if let [r] = success.as_slice() {
                if !r.headers.is_empty() {
                    return with_headers(r, response_name, models, &doc_line);
                }
            }
            if success.len() <= 1 {
                let (ty, decode) = match success.first() {
                    Some(r) => single(r, models),
                    None => (quote!(()), quote!(response.empty())),
                };
                (ty, decode)
            } else {
                return per_status(&success, response_name, models, &doc_line);
            }
        }
    };
    let item = quote! {
        #[doc = #doc_line]
        pub type #response_name = #ty;
    };
    (quote!(#response_name), item, decode)
}

/// An answer whose headers the spec declares: a struct of the body (if any), each header
/// typed, and every header as sent.
fn with_headers(
    r: &Response,
    name: &proc_macro2::Ident,
    models: &TokenStream,
    doc_line: &str,
) -> (TokenStream, TokenStream, TokenStream) {
    let (body_ty, body_decode) = single(r, models);
    let has_body = r.ty.is_some();
    let body_field = has_body.then(|| quote!(#[doc = " The body."] pub body: #body_ty,));
    let body_value = if has_body {
        quote!(body: #body_decode?,)
    } else {
        quote!()
    };
    let fields = r.headers.iter().map(|h| {
        let field = ident(&h.rust_name);
        let ty = ty_tokens(&h.ty, models);
        let line = format!(
            " Header `{}`, if the engine sent it.{}",
            h.name,
            written_as(&h.rust_name)
        );
        let hdoc = doc(h.doc.as_deref());
        let separator = if hdoc.is_empty() {
            quote!()
        } else {
            quote!(#[doc = ""])
        };
        quote!(#hdoc #separator #[doc = #line] pub #field: Option<#ty>,)
    });
    let reads = r.headers.iter().map(|h| {
        let field = ident(&h.rust_name);
        let wire = &h.name;
        let read = quote!(crate::de::header(&headers, #wire, response.operation())?);
        match &h.ty {
            // A string enum (`Swarm`) reads the text, keeping a value it does not know.
            Ty::Named(_) => {
                let ty = ty_tokens(&h.ty, models);
                quote!(#field: #read.map(|text: String| #ty::from(text.as_str())),)
            }
            _ => quote!(#field: #read,),
        }
    });
    let item = quote! {
        #[doc = #doc_line]
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct #name {
            #body_field
            #(#fields)*
            /// Every header of the answer, as the engine sent them.
            pub headers: crate::Headers,
        }
    };
    let decode = quote! {
        let mut response = response;
        let headers = response.take_headers();
        Ok(#name {
            #(#reads)*
            #body_value
            headers,
        })
    };
    (quote!(#name), item, decode)
}

fn single(r: &Response, models: &TokenStream) -> (TokenStream, TokenStream) {
    match &r.ty {
        Some(Ty::String) if r.text => (quote!(String), quote!(response.text())),
        Some(ty) => (ty_tokens(ty, models), json_decode(ty, models)),
        None => (quote!(()), quote!(response.empty())),
    }
}

/// The type a JSON answer is read through: a list or a map answer reads `null` as empty
/// (dockerd answers ContainerChanges with `null` when nothing changed), as fields do.
fn read_as(ty: &Ty, models: &TokenStream) -> TokenStream {
    let tokens = ty_tokens(ty, models);
    match ty {
        Ty::Vec(_) | Ty::Map(_) => quote!(crate::de::NullAsDefault<#tokens>),
        _ => tokens,
    }
}

fn json_decode(ty: &Ty, models: &TokenStream) -> TokenStream {
    match ty {
        Ty::Vec(_) | Ty::Map(_) => {
            let read = read_as(ty, models);
            quote!(response.json::<#read>().map(|answer| answer.0))
        }
        _ => quote!(response.json()),
    }
}

fn status_variant(status: u16) -> String {
    match status {
        100 => "Continue".into(),
        101 => "SwitchingProtocols".into(),
        200 => "Ok".into(),
        201 => "Created".into(),
        202 => "Accepted".into(),
        204 => "NoContent".into(),
        206 => "PartialContent".into(),
        301 => "MovedPermanently".into(),
        302 => "Found".into(),
        304 => "NotModified".into(),
        other => format!("Status{other}"),
    }
}

/// Several success statuses: an enum with a variant per status.
fn per_status(
    success: &[&Response],
    name: &proc_macro2::Ident,
    models: &TokenStream,
    doc_line: &str,
) -> (TokenStream, TokenStream, TokenStream) {
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    for r in success {
        let variant = format_ident!("{}", status_variant(r.status));
        let vdoc = format!(
            " {} — {}",
            r.status,
            r.description.trim().lines().next().unwrap_or_default()
        );
        let status = r.status;
        match &r.ty {
            Some(ty) => {
                let (ty, decode) = if matches!(ty, Ty::String) && r.text {
                    (quote!(String), quote!(response.text()))
                } else {
                    (ty_tokens(ty, models), json_decode(ty, models))
                };
                variants.push(quote!(#[doc = #vdoc] #variant(#ty),));
                arms.push(quote!(#status => #decode.map(#name::#variant),));
            }
            None => {
                variants.push(quote!(#[doc = #vdoc] #variant,));
                arms.push(quote!(#status => response.empty().map(|()| #name::#variant),));
            }
        }
    }
    // A body-less first status is the natural default (`NoContent` of a start).
    let derive_default = success[0].ty.is_none();
    if derive_default {
        if let Some(first) = variants.first_mut() {
            *first = quote!(#[default] #first);
        }
    }
    let derives = if derive_default {
        quote!(#[derive(Debug, Clone, PartialEq, Default)])
    } else {
        quote!(#[derive(Debug, Clone, PartialEq)])
    };
    let item = quote! {
        #[doc = #doc_line]
        #derives
        pub enum #name {
            #(#variants)*
        }
    };
    let decode = quote! {
        match response.status() {
            #(#arms)*
            _ => Err(response.unexpected_status()),
        }
    };
    (quote!(#name), item, decode)
}

/// `round_trip(operation, status, body)`: an answer decoded as the version's typed answer
/// and written back as JSON, for every operation and success status whose answer is JSON
/// (one item, for JSON lines). `#[inline]`, like `decode`: compiled only where it is called.
pub fn round_trip(api: &Api) -> TokenStream {
    let models = quote!(models);
    let mut arms = Vec::new();
    for op in &api.operations {
        let id = &op.id;
        match &op.kind {
            ResponseKind::JsonLines(item) => {
                let item = ty_tokens(item, &models);
                arms.push(quote!((#id, _) => Some(crate::de::round_trip::<#item>(#id, body)),));
            }
            ResponseKind::Json => {
                let success = op.success();
                if success.is_empty() {
                    arms.push(quote!((#id, _) => Some(crate::de::unit_round_trip()),));
                }
                for r in success {
                    let status = r.status;
                    match &r.ty {
                        Some(Ty::String) if r.text => {}
                        Some(ty) => {
                            let ty = read_as(ty, &models);
                            arms.push(quote!((#id, #status) => Some(crate::de::round_trip::<#ty>(#id, body)),));
                        }
                        None => {
                            arms.push(quote!((#id, #status) => Some(crate::de::unit_round_trip()),))
                        }
                    }
                }
            }
            _ => {}
        }
    }
    quote! {
        /// The answer `body` that `operation` gave with `status`, decoded as this version's
        /// typed answer and written back as JSON: what a typed call keeps of what the
        /// engine sent (`null` for an answer typed `()`), and the keys only its `extra` maps
        /// kept. For a JSON-lines answer, `body` is one item. `None` when that answer is not
        /// JSON (bytes, frames, an upgrade, text) or the status is not one the operation
        /// lists. The conformance sweep (`tests/sweep.rs`) compares it with what the engine
        /// sent.
        #[inline]
        pub fn round_trip(
            operation: &str,
            status: u16,
            body: &[u8],
        ) -> Option<crate::Result<crate::dynamic::RoundTrip>> {
            let _ = body;
            match (operation, status) {
                #(#arms)*
                _ => None,
            }
        }
    }
}
