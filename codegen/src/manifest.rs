//! `specs/manifest.json`: which spec files exist, which Cargo feature enables each, and
//! per engine the doc-URL template and namespaces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::lower::SpecMeta;
use crate::Error;

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub engines: BTreeMap<String, EngineEntry>,
    pub specs: Vec<SpecEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EngineEntry {
    pub doc_url: String,
    pub update_url: String,
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SpecEntry {
    pub engine: String,
    pub version: String,
    /// Relative to the manifest's folder.
    pub file: String,
    pub feature: String,
    pub module: String,
    pub source: serde_json::Value,
    pub sha256: String,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(path, "", format!("cannot read the manifest: {e}")))?;
        let mut manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::new(path, "", format!("bad manifest: {e}")))?;
        for (index, spec) in manifest.specs.iter().enumerate() {
            if !manifest.engines.contains_key(&spec.engine) {
                return Err(Error::new(
                    path,
                    format!("/specs/{index}/engine"),
                    format!("unknown engine {}", spec.engine),
                ));
            }
        }
        // Oldest first per engine, whatever the file's order: version tables and the
        // default version's rule rely on it.
        manifest.specs.sort_by(|a, b| {
            (&a.engine, version_key(&a.version)).cmp(&(&b.engine, version_key(&b.version)))
        });
        Ok(manifest)
    }

    /// The newest spec of an engine (the default feature is the newest Docker version).
    pub fn newest(&self, engine: &str) -> Option<&SpecEntry> {
        self.specs.iter().rfind(|s| s.engine == engine)
    }

    /// What the generator needs to know of a spec beyond its text.
    pub fn meta(&self, spec: &SpecEntry) -> SpecMeta {
        let engine = &self.engines[&spec.engine];
        SpecMeta {
            engine: spec.engine.clone(),
            version: spec.version.clone(),
            doc_url: engine.doc_url.clone(),
            namespaces: engine.namespaces.clone(),
            earlier: self
                .specs
                .iter()
                .filter(|s| {
                    s.engine == spec.engine && compare_versions(&s.version, &spec.version).is_lt()
                })
                .filter_map(|s| {
                    let name = Path::new(&s.file).file_name()?.to_str()?;
                    Some((s.version.clone(), name.to_string()))
                })
                .collect(),
        }
    }
}

impl SpecEntry {
    pub fn path(&self, specs_dir: &Path) -> PathBuf {
        specs_dir.join(&self.file)
    }

    /// `CARGO_FEATURE_DOCKER_V1_41` for `docker-v1_41`.
    pub fn feature_env(&self) -> String {
        format!(
            "CARGO_FEATURE_{}",
            self.feature.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// `1.9` < `1.41` < `5.1.0`: numeric parts compared in turn.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// Orders two versions numerically (`1.9` before `1.41`).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    version_key(a).cmp(&version_key(b))
}
