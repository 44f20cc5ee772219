//! Prints, per vendored spec, how much of it berth types: operations, typed requests and
//! responses, `serde_json::Value` fallbacks and why, and the fixups applied.
//!
//! `cargo run -p berth-codegen --bin spec-report [-- --json] [--specs DIR]`

use std::path::PathBuf;
use std::process::ExitCode;

use berth_codegen::manifest::Manifest;
use berth_codegen::report::{report, Report};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
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
    println!("| spec | operations | typed requests | typed responses | types | Value fallbacks | fixups applied |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    let (mut ops, mut req, mut resp) = (0, 0, 0);
    for r in &reports {
        ops += r.operations;
        req += r.typed_requests;
        resp += r.typed_responses;
        let fixups: Vec<String> = r
            .fixups
            .iter()
            .map(|f| format!("{} ×{}", f.name, f.count))
            .collect();
        println!(
            "| {} {} | {} | {} | {} | {} | {} | {} |",
            r.engine,
            r.version,
            r.operations,
            r.typed_requests,
            r.typed_responses,
            r.types,
            r.fallbacks.len(),
            fixups.join(", ")
        );
    }
    let pct = |n: usize| 100.0 * n as f64 / ops.max(1) as f64;
    println!(
        "| **all** | {ops} | {req} ({:.1}%) | {resp} ({:.1}%) | | | |",
        pct(req),
        pct(resp)
    );
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
