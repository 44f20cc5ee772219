//! The vendored specs against their manifest, and the manifest against berth's features.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use berth_codegen::manifest::Manifest;
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest() -> Manifest {
    Manifest::read(&root().join("specs/manifest.json")).unwrap()
}

/// However many files there are: each is the file its source published.
#[test]
fn every_vendored_spec_matches_its_sha256() {
    let manifest = manifest();
    assert!(
        !manifest.specs.is_empty(),
        "specs/manifest.json lists no spec"
    );
    for spec in &manifest.specs {
        let path = spec.path(&root().join("specs"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            digest, spec.sha256,
            "{} is not the upstream file (run scripts/fetch-specs download)",
            spec.file
        );
    }
}

#[test]
fn no_spec_file_is_outside_the_manifest() {
    let manifest = manifest();
    let listed: BTreeSet<String> = manifest.specs.iter().map(|s| s.file.clone()).collect();
    for engine in manifest.engines.keys() {
        for entry in std::fs::read_dir(root().join("specs").join(engine)).unwrap() {
            let name = format!("{engine}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(
                listed.contains(&name),
                "specs/{name} is not in specs/manifest.json"
            );
        }
    }
}

/// `[features]` of berth's Cargo.toml: name → members.
fn features() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let section = text
        .split("\n[features]\n")
        .nth(1)
        .expect("a [features] section");
    let section = section.split("\n[").next().unwrap();
    section
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .map(|l| {
            let (name, value) = l.split_once('=').unwrap();
            let members = value
                .split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
            (name.trim().to_string(), members)
        })
        .collect()
}

#[test]
fn every_spec_has_a_feature_and_every_version_feature_a_spec() {
    let manifest = manifest();
    let features = features();
    let names: BTreeSet<&str> = features.iter().map(|(n, _)| n.as_str()).collect();
    for spec in &manifest.specs {
        assert!(
            names.contains(spec.feature.as_str()),
            "specs/{} has no Cargo feature `{}`: add `{} = []`",
            spec.file,
            spec.feature,
            spec.feature
        );
        assert_eq!(
            spec.feature,
            format!("{}-v{}", spec.engine, spec.version.replace('.', "_"))
        );
        assert_eq!(spec.module, format!("v{}", spec.version.replace('.', "_")));
    }
    for name in &names {
        let versioned = manifest
            .engines
            .keys()
            .any(|e| name.starts_with(&format!("{e}-v")));
        if versioned {
            assert!(
                manifest.specs.iter().any(|s| s.feature == *name),
                "feature `{name}` has no spec in specs/manifest.json"
            );
        }
    }
    for engine in manifest.engines.keys() {
        let umbrella = &features
            .iter()
            .find(|(n, _)| n == engine)
            .unwrap_or_else(|| panic!("no `{engine}` feature"))
            .1;
        for spec in manifest.specs.iter().filter(|s| &s.engine == engine) {
            assert!(
                umbrella.contains(&spec.feature),
                "`{engine}` does not enable `{}`",
                spec.feature
            );
        }
    }
    // The rule for the default version, enforced here: `default` enables the newest
    // Docker version of the manifest, and no other engine version (`scripts/fetch-specs
    // update` writes it so).
    let default = &features.iter().find(|(n, _)| n == "default").unwrap().1;
    let newest_docker = manifest.newest("docker").expect("a Docker spec");
    let versioned: Vec<&String> = default
        .iter()
        .filter(|f| manifest.specs.iter().any(|s| &s.feature == *f))
        .collect();
    assert_eq!(
        versioned,
        [&newest_docker.feature],
        "the default enables exactly the newest Docker version ({}); run scripts/fetch-specs update or edit Cargo.toml's `default`",
        newest_docker.feature
    );
    // docs.rs documents it too, beside versions of the manifest only.
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let docs_rs = cargo
        .split("[package.metadata.docs.rs]\nfeatures = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("a [package.metadata.docs.rs] features list");
    let listed: Vec<&str> = docs_rs.split('"').skip(1).step_by(2).collect();
    assert!(
        listed.contains(&newest_docker.feature.as_str()),
        "docs.rs documents the newest Docker version: {listed:?}"
    );
    for feature in listed {
        assert!(
            names.contains(feature),
            "docs.rs asks for feature `{feature}`, which Cargo.toml does not declare"
        );
    }
}

/// Every spec generates with every request typed, at least 96% of success answers typed,
/// one type per shape and no numbered names, and `docs/specs.md`'s table is what `spec-report` prints today.
#[test]
fn every_vendored_spec_generates_and_the_readme_table_is_current() {
    let manifest = manifest();
    let mut reports = Vec::new();
    for spec in &manifest.specs {
        let generated =
            berth_codegen::generate(&spec.path(&root().join("specs")), &manifest.meta(spec))
                .unwrap();
        let report = berth_codegen::report::report(&generated);
        assert_eq!(
            report.typed_requests, report.operations,
            "{} {}: {:?}",
            spec.engine, spec.version, report.untyped_requests
        );
        syn::parse_file(&generated.code).unwrap();
        // One type per shape, no name numbered (`unify`).
        let shared = berth_codegen::unify::shared_shapes(&generated.api);
        assert!(
            shared.is_empty(),
            "{} {}: {shared:?}",
            spec.engine,
            spec.version
        );
        let numbered: Vec<&str> = generated
            .api
            .types
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| n.ends_with(|c: char| c.is_ascii_digit()))
            .collect();
        assert!(
            numbered.is_empty(),
            "{} {}: {numbered:?}",
            spec.engine,
            spec.version
        );
        reports.push(report);
    }
    let operations: usize = reports.iter().map(|r| r.operations).sum();
    let typed_responses: usize = reports.iter().map(|r| r.typed_responses).sum();
    let share = typed_responses as f64 / operations as f64;
    assert!(
        share >= 0.96,
        "only {:.1}% of operations have a typed success response",
        100.0 * share
    );

    let table = berth_codegen::report::markdown_table(&reports);
    let page = std::fs::read_to_string(root().join("docs/specs.md")).unwrap();
    let current = berth_codegen::report::readme_with_table(&page, &table)
        .expect("docs/specs.md has the spec-report table markers");
    assert!(
        current == page,
        "docs/specs.md's spec-report table is stale: run `cargo run -p berth-codegen --bin spec-report -- --readme docs/specs.md`"
    );
}
