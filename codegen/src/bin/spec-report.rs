//! Prints, per vendored spec, how much of it berth types: operations, typed requests and
//! responses, `serde_json::Value` fallbacks and why, and the fixups applied.
//!
//! `cargo run -p berth-codegen --bin spec-report [-- --json] [--specs DIR] [--readme FILE]`
//!
//! `--readme FILE` also writes the table into FILE between its markers
//! (`docs/specs.md`'s table; `cargo test -p berth-codegen` fails when it is not current).

use std::path::PathBuf;
use std::process::ExitCode;

use berth_codegen::manifest::Manifest;
use berth_codegen::report::{markdown_table, readme_with_table, report, Report};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let readme = args
        .iter()
        .position(|a| a == "--readme")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let specs_dir = args
        .iter()
        .position(|a| a == "--specs")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs"));
    let manifest = match Manifest::read(&specs_dir.join("manifest.json")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("spec-report: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut reports: Vec<Report> = Vec::new();
    for spec in &manifest.specs {
        match berth_codegen::generate(&spec.path(&specs_dir), &manifest.meta(spec)) {
            Ok(generated) => reports.push(report(&generated)),
            Err(e) => {
                eprintln!("spec-report: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("reports serialize")
        );
        return ExitCode::SUCCESS;
    }
    let table = markdown_table(&reports);
    print!("{table}");
    if let Some(readme) = readme {
        let text = std::fs::read_to_string(&readme).unwrap_or_default();
        let Some(updated) = readme_with_table(&text, &table) else {
            eprintln!(
                "spec-report: {} has no table markers ({})",
                readme.display(),
                berth_codegen::report::TABLE_BEGIN
            );
            return ExitCode::FAILURE;
        };
        if let Err(e) = std::fs::write(&readme, updated) {
            eprintln!("spec-report: cannot write {}: {e}", readme.display());
            return ExitCode::FAILURE;
        }
        eprintln!("spec-report: wrote the table into {}", readme.display());
    }
    println!();
    println!("Operations without a typed success response, and why:");
    for r in &reports {
        for u in &r.untyped_responses {
            println!(
                "- {} {}: {} — {}",
                r.engine, r.version, u.operation, u.reason
            );
        }
    }
    println!();
    println!("Schemas that fell back to serde_json::Value, by reason:");
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in &reports {
        for f in &r.fallbacks {
            *reasons.entry(f.reason.as_str()).or_default() += 1;
        }
    }
    for (reason, n) in reasons {
        println!("- {reason}: {n}");
    }
    ExitCode::SUCCESS
}
