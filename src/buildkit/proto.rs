//! BuildKit's protocol, generated at build time from the vendored `protos/` (prost messages,
//! tonic servers for the session services berth serves).

#![allow(dead_code, clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]

include!(concat!(env!("OUT_DIR"), "/protos/_include.rs"));
