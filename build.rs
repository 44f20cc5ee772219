//! Thin: for each engine version the enabled features ask for, generate its module into
//! OUT_DIR, then write `engines.rs`, the module tree that `src/lib.rs` includes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use berth_codegen::manifest::Manifest;

fn main() {
    let started = std::time::Instant::now();
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let specs = root.join("specs");
    let manifest_path = specs.join("manifest.json");
    // The whole folder: a spec may borrow from another (the stats schema from v1.48).
    println!("cargo:rerun-if-changed={}", specs.display());
    let manifest = Manifest::read(&manifest_path).unwrap_or_else(|e| fail(&e));

    // engine → [(module, version, file name, feature)]
    let mut enabled: BTreeMap<String, Vec<(String, String, String, String)>> = BTreeMap::new();
    for spec in &manifest.specs {
        println!("cargo:rerun-if-env-changed={}", spec.feature_env());
        if std::env::var_os(spec.feature_env()).is_none() {
            continue;
        }
        let path = spec.path(&specs);
        let generated =
            berth_codegen::generate(&path, &manifest.meta(spec)).unwrap_or_else(|e| fail(&e));
        let file_name = format!("{}_{}.rs", spec.engine, spec.module);
        write(&out.join(&file_name), &generated.code);
        enabled.entry(spec.engine.clone()).or_default().push((
            spec.module.clone(),
            spec.version.clone(),
            file_name,
            spec.feature.clone(),
        ));
    }

    let mut tree = String::new();
    for engine in manifest.engines.keys() {
        let versions = enabled.get(engine).map(Vec::as_slice).unwrap_or_default();
        let _ = writeln!(
            tree,
            "/// The {engine} engine: one module per API version enabled by a Cargo feature."
        );
        let _ = writeln!(tree, "pub mod {engine} {{");
        for (module, version, file, feature) in versions {
            let _ = writeln!(
                tree,
                "    /// The {engine} API {version}, generated from its vendored spec: `ops` holds \
                 every operation, each category module lists its own, `models` the types.\n    ///\n    \
                 /// Cargo feature: `{feature}`."
            );
            let _ = writeln!(
                tree,
                "    #[cfg_attr(docsrs, doc(cfg(feature = \"{feature}\")))]"
            );
            // The descriptions are the engine's own markdown: its style is not ours to lint.
            let _ = writeln!(
                tree,
                "    #[allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags, rustdoc::invalid_rust_codeblocks, clippy::doc_lazy_continuation, clippy::doc_overindented_list_items)]"
            );
            let _ = writeln!(
                tree,
                "    pub mod {module} {{ include!(concat!(env!(\"OUT_DIR\"), \"/{file}\")); }}"
            );
        }
        if let Some((module, version, _, _)) = versions.last() {
            let _ = writeln!(
                tree,
                "    /// The newest enabled {engine} API version ({version}): code written against \
                 it follows the default feature as new versions are added."
            );
            let _ = writeln!(tree, "    pub use self::{module} as newest;");
        }
        let _ = writeln!(
            tree,
            "    /// Every enabled {engine} API version's table, oldest first."
        );
        let list: Vec<String> = versions
            .iter()
            .map(|(m, _, _, _)| format!("&{m}::API"))
            .collect();
        let _ = writeln!(
            tree,
            "    pub static VERSIONS: &[&crate::ApiInfo] = &[{}];",
            list.join(", ")
        );
        let _ = writeln!(tree, "}}");
    }
    write(&out.join("engines.rs"), &tree);
    #[cfg(feature = "buildkit")]
    {
        // BuildKit's protocol: the vendored .proto files, checked and compiled.
        println!("cargo:rerun-if-changed={}", root.join("protos").display());
        berth_codegen::protos::generate(&root.join("protos"), &out.join("protos"))
            .unwrap_or_else(|e| fail(&e));
    }
    // Read by scripts/measure-build: what generation itself costs.
    let count: usize = enabled.values().map(Vec::len).sum();
    write(
        &out.join("generation-time.txt"),
        &format!("{} ms for {count} specs\n", started.elapsed().as_millis()),
    );
}

fn write(path: &Path, text: &str) {
    // Unchanged output keeps its mtime, so nothing downstream rebuilds for nothing.
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn fail(error: &berth_codegen::Error) -> ! {
    eprintln!("error: berth cannot generate its API modules");
    eprintln!("  {error}");
    std::process::exit(1);
}
