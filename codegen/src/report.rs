//! What the generator made of a spec, in numbers: the `spec-report` binary prints it.

use serde::Serialize;

use crate::model::{Api, Body, ResponseKind, Ty};
use crate::Generated;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub engine: String,
    pub version: String,
    pub operations: usize,
    /// Every parameter and the body have a type that is not `serde_json::Value`.
    pub typed_requests: usize,
    /// The success answer decodes to a type that is not `serde_json::Value` (or is
    /// legitimately empty, a byte stream or a connection).
    pub typed_responses: usize,
    pub untyped_requests: Vec<String>,
    pub untyped_responses: Vec<Untyped>,
    pub types: usize,
    pub fallbacks: Vec<crate::model::Fallback>,
    pub fixups: Vec<crate::fixups::Applied>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Untyped {
    pub operation: String,
    pub reason: String,
}

fn is_untyped(ty: &Ty) -> bool {
    match ty {
        Ty::Value => true,
        Ty::Vec(inner) | Ty::Map(inner) | Ty::Nullable(inner) => is_untyped(inner),
        _ => false,
    }
}

pub fn report(generated: &Generated) -> Report {
    let api: &Api = &generated.api;
    let mut untyped_requests = Vec::new();
    let mut untyped_responses = Vec::new();
    for op in &api.operations {
        let body_untyped = matches!(&op.body, Some(Body::Json { ty, .. }) if is_untyped(ty));
        if body_untyped || op.params.iter().any(|p| is_untyped(&p.ty)) {
            untyped_requests.push(op.id.clone());
        }
        let reason = match &op.kind {
            ResponseKind::JsonLines(item) if is_untyped(item) => {
                Some("stream items have no schema".to_string())
            }
            ResponseKind::Json => {
                let success = op.success();
                if success.is_empty() {
                    Some("the spec lists no success response".to_string())
                } else {
                    success
                        .iter()
                        .find(|r| r.ty.as_ref().is_some_and(is_untyped))
                        .map(|r| format!("{} body is untyped JSON", r.status))
                }
            }
            _ => None,
        };
        if let Some(reason) = reason {
            untyped_responses.push(Untyped {
                operation: op.id.clone(),
                reason,
            });
        }
    }
    let operations = api.operations.len();
    Report {
        engine: api.engine.clone(),
        version: api.version.clone(),
        operations,
        typed_requests: operations - untyped_requests.len(),
        typed_responses: operations - untyped_responses.len(),
        untyped_requests,
        untyped_responses,
        types: api.types.len(),
        fallbacks: api.fallbacks.clone(),
        fixups: generated.fixups.clone(),
    }
}

/// The markers around the table in `docs/specs.md`: `spec-report -- --readme docs/specs.md`
/// writes between them, and the generator's tests check that what is there is current.
pub const TABLE_BEGIN: &str = "<!-- spec-report table: written by `cargo run -p berth-codegen --bin spec-report -- --readme docs/specs.md` -->";
pub const TABLE_END: &str = "<!-- end of spec-report table -->";

/// The Markdown table of every report, with a total row.
pub fn markdown_table(reports: &[Report]) -> String {
    let mut out = String::from(
        "| spec | operations | typed requests | typed responses | types | Value fallbacks | fixups applied |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    let (mut ops, mut req, mut resp) = (0, 0, 0);
    for r in reports {
        ops += r.operations;
        req += r.typed_requests;
        resp += r.typed_responses;
        let fixups: Vec<String> = r
            .fixups
            .iter()
            .map(|f| format!("{} ×{}", f.name, f.count))
            .collect();
        out.push_str(&format!(
            "| {} {} | {} | {} | {} | {} | {} | {} |\n",
            r.engine,
            r.version,
            r.operations,
            r.typed_requests,
            r.typed_responses,
            r.types,
            r.fallbacks.len(),
            fixups.join(", ")
        ));
    }
    let pct = |n: usize| 100.0 * n as f64 / ops.max(1) as f64;
    out.push_str(&format!(
        "| **all** | {ops} | {req} ({:.1}%) | {resp} ({:.1}%) | | | |\n",
        pct(req),
        pct(resp)
    ));
    out.push_str(
        "\nEvery fixup, in the order they run (`codegen/src/fixups/`): what it corrects, and the \
         evidence — the engines that were seen sending what the spec does not say (the \
         conformance sweep, `tests/sweep.rs`, fails without each of the engine-evidenced ones).\n\n",
    );
    for fixup in crate::fixups::FIXUPS {
        out.push_str(&format!("- `{}`: {}\n", fixup.name, fixup.reason));
    }
    out
}

/// `readme` with the text between its markers replaced by `table`; `None` without them.
pub fn readme_with_table(readme: &str, table: &str) -> Option<String> {
    let start = readme.find(TABLE_BEGIN)? + TABLE_BEGIN.len();
    let end = start + readme[start..].find(TABLE_END)?;
    Some(format!("{}\n{table}{}", &readme[..start], &readme[end..]))
}
