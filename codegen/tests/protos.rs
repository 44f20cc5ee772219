//! BuildKit's vendored protocol files (`protos/`): untouched (their sha256 are the
//! manifest's, and BuildKit's own files are byte for byte those of `../shared/specs/buildkit`
//! where that folder is beside the project), and a changed one fails the build naming it.

#![cfg(feature = "protos")]

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn protos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../protos")
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(protos().join("manifest.json")).unwrap()).unwrap()
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_vendored_proto_is_the_manifests_and_none_is_unlisted() {
    let manifest = manifest();
    let files = manifest["files"].as_array().unwrap();
    let mut listed = Vec::new();
    for file in files {
        let path = file["path"].as_str().unwrap();
        assert_eq!(
            sha256(&protos().join(path)),
            file["sha256"].as_str().unwrap(),
            "{path}"
        );
        let source = file["source"].as_str().unwrap();
        assert!(
            manifest["sources"][source].is_object(),
            "{path}: source {source}"
        );
        listed.push(path.to_string());
    }
    let mut found = Vec::new();
    let mut stack = vec![protos()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                found.push(path.strip_prefix(protos()).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    listed.sort();
    assert_eq!(
        found, listed,
        "every .proto under protos/ is in the manifest"
    );
}

/// BuildKit's and fsutil's files are the ones `../shared/specs/buildkit/README.md` lists.
#[test]
fn buildkit_files_match_the_shared_copies() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/buildkit");
    let Ok(readme) = std::fs::read_to_string(shared.join("README.md")) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and ../shared/specs/buildkit is missing"
        );
        eprintln!("../shared/specs/buildkit is not beside the project: nothing to compare");
        return;
    };
    let manifest = manifest();
    let mut compared = 0;
    for file in manifest["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap();
        if !path.starts_with("github.com/") {
            continue;
        }
        let line = readme
            .lines()
            .find(|l| l.ends_with(&format!("./{path}")))
            .unwrap_or_else(|| panic!("{path} is not in the shared README"));
        assert!(
            line.starts_with(file["sha256"].as_str().unwrap()),
            "{path}: {line}"
        );
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} files compared");
}

#[test]
fn a_changed_file_fails_the_generation_naming_it() {
    let copy = std::env::temp_dir().join(format!("berth-protos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&protos(), &copy);
    let victim = copy.join("github.com/moby/buildkit/session/secrets/secrets.proto");
    let mut text = std::fs::read_to_string(&victim).unwrap();
    text.push_str("\n// edited\n");
    std::fs::write(&victim, text).unwrap();
    let error = berth_codegen::protos::generate(&copy, &copy.join("out")).unwrap_err();
    let _ = std::fs::remove_dir_all(&copy);
    assert!(error.file.ends_with("secrets/secrets.proto"), "{error}");
    assert!(error.message.contains("untouched"), "{error}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
