//! berth's generator: container engines' API specs become typed Rust modules.
//!
//! One way through, each stage in its own module:
//! `load` (Swagger 2.0 → OpenAPI 3.0 document) → `fixups` (every spec defect, each with its
//! reason) → typed `openapiv3::OpenAPI` → `lower` (berth's `model`) → `unify` (one name per
//! shape) → `emit` (quote, then prettyplease). `build.rs` of the berth crate is a thin
//! caller of [`generate`].

pub mod emit;
pub mod error;
pub mod ext;
pub mod fixups;
pub mod load;
pub mod lower;
pub mod manifest;
pub mod model;
pub mod naming;
#[cfg(feature = "protos")]
pub mod protos;
pub mod report;
pub mod secrets;
pub mod unify;

use std::path::Path;

pub use error::Error;
pub use lower::SpecMeta;

/// What one spec gave.
#[derive(Debug, Clone)]
pub struct Generated {
    pub api: model::Api,
    pub fixups: Vec<fixups::Applied>,
    /// The version module's body, formatted.
    pub code: String,
}

/// Loads, fixes, lowers and emits one spec file.
pub fn generate(file: &Path, meta: &SpecMeta) -> Result<Generated, Error> {
    let document = load::load_file(file)?;
    generate_document(file, document, meta)
}

/// The same, from spec text (tests, tools).
pub fn generate_str(label: &Path, text: &str, meta: &SpecMeta) -> Result<Generated, Error> {
    let document = load::load_str(label, text)?;
    generate_document(label, document, meta)
}

fn generate_document(
    file: &Path,
    mut document: serde_json::Value,
    meta: &SpecMeta,
) -> Result<Generated, Error> {
    let lender = fixups::lender_for(file, &meta.engine, &document)?;
    let earlier =
        fixups::earlier::load_earlier(&fixups::earlier::earlier_files(file, &meta.earlier))?;
    let context = fixups::Context {
        engine: &meta.engine,
        lender: lender.as_deref(),
        earlier: &earlier,
    };
    let fixups = fixups::apply_all(&mut document, &context);
    let spec = load::deserialize(file, document)?;
    let api = unify::unify(lower::lower(file, &spec, meta)?);
    let code = emit::text(&api).map_err(|e| Error::new(file, "", e))?;
    Ok(Generated { api, fixups, code })
}
