//! Every path the rustdoc, the README and `docs/` point a reader to (`examples/mtls.rs`,
//! `scripts/test`, ...) exists and ships with the crate (Cargo.toml's `include`), or, for
//! `codegen/...`, with berth-codegen; every link of those pages resolves, anchors included;
//! the README stays a five-minute read.

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
    let mut sources: Vec<(PathBuf, String)> = markdown_pages()
        .into_iter()
        .map(|page| {
            let text = std::fs::read_to_string(root().join(&page)).unwrap();
            (page, text)
        })
        .collect();
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

/// The README and every page under `docs/`, relative to the crate's root.
fn markdown_pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path.strip_prefix(root()).unwrap().to_path_buf());
        }
    }
    pages.sort();
    pages
}

/// GitHub's anchor for a heading: lowercase, spaces to `-`, punctuation but `-` and `_` gone.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// `[text](target)` links outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for piece in prose.split("](").skip(1) {
            if let Some(end) = piece.find(')') {
                found.push(piece[..end].to_string());
            }
        }
    }
    found
}

#[test]
fn every_link_of_the_readme_and_the_docs_resolves() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in markdown_pages() {
        let text = std::fs::read_to_string(root().join(&page)).unwrap();
        for link in links(&text) {
            // The web is not reachable from here; the one page it names is contajners'.
            if link.starts_with("https://") || link.starts_with("http://") {
                continue;
            }
            checked += 1;
            let (path, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                root().join(&page)
            } else {
                root().join(page.parent().unwrap()).join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", page.display()));
                continue;
            }
            if !fragment.is_empty() {
                let target_text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&target_text).iter().any(|a| a == fragment) {
                    broken.push(format!("{}: {link}: no such heading", page.display()));
                }
            }
        }
    }
    assert!(
        checked > 30,
        "only {checked} links found: is the scan broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_is_a_five_minute_read() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines: reports belong in docs/"
    );
}
