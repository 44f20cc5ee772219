//! Every path the rustdoc and the README point a reader to (`examples/mtls.rs`,
//! `tests/versions.rs`, `scripts/test`, ...) exists and ships with the crate (Cargo.toml's
//! `include`), or, for `codegen/...`, with berth-codegen.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The top-level entries of Cargo.toml's `include` (`src`, `examples`, `build.rs`, ...).
fn shipped() -> Vec<String> {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let line = cargo
        .lines()
        .find(|l| l.starts_with("include = ["))
        .expect("Cargo.toml has an include list");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(|entry| entry.trim_start_matches('/').to_string())
        .collect()
}

/// Paths such as `examples/mtls.rs` in `text`, in backticks or as Markdown link targets.
fn pointers(text: &str) -> Vec<String> {
    const ROOTS: [&str; 6] = [
        "examples/",
        "tests/",
        "src/",
        "specs/",
        "scripts/",
        "codegen/",
    ];
    let mut found = Vec::new();
    for piece in text.split(['`', '(', ')', ' ', '\n']) {
        let piece = piece.trim_end_matches([',', '.', ';', ':']);
        if ROOTS.iter().any(|r| piece.starts_with(r)) && piece.len() > 4 {
            found.push(piece.to_string());
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_pointer_in_the_docs_reaches_a_shipped_file() {
    let shipped = shipped();
    let mut sources = vec![(
        PathBuf::from("README.md"),
        std::fs::read_to_string(root().join("README.md")).unwrap(),
    )];
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for file in files {
        let docs: String = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("///") || l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        sources.push((file.strip_prefix(root()).unwrap().to_path_buf(), docs));
    }
    let mut checked = 0;
    let mut broken = Vec::new();
    for (source, text) in &sources {
        for pointer in pointers(text) {
            // Placeholders such as `specs/ENGINE/vVERSION.yaml` name no file.
            if pointer.contains("ENGINE") || pointer.contains('*') {
                continue;
            }
            checked += 1;
            let exists = root().join(&pointer).exists();
            let top = pointer.split('/').next().unwrap();
            let ships = top == "codegen" || shipped.iter().any(|s| s == top);
            if !exists || !ships {
                broken.push(format!(
                    "{}: `{pointer}` {}",
                    source.display(),
                    if exists {
                        "is not in Cargo.toml's include"
                    } else {
                        "does not exist"
                    }
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} pointers found: is the scan broken?"
    );
    assert!(broken.is_empty(), "broken pointers:\n{}", broken.join("\n"));
}
