//! The conformance sweep: every operation of every spec, classified in `tests/sweep/*.txt`
//! (called here, or not callable here and why), and every callable one called on the engine
//! with each module the engine accepts — Docker: the modules up to the engine's own API
//! version, and the newest enabled module negotiated down; Podman: both libpod modules, and
//! its compatible API through the Docker modules. Each call must answer a status its
//! operation lists, and its answer, decoded as berth's typed answer (`round_trip` of the
//! module) and written back, must hold every key the engine sent. A failure names engine,
//! module, operation and JSON path. Each engine × module is a row of the table
//! `scripts/test` prints and `docs/engines.md` shows (`target/tmp/sweep/`).
//!
//! The tables are scenarios: rows run in file order, earlier rows make what later rows use,
//! the last rows remove it all. A row is `ENGINE OPERATION CLASS REST`: `ENGINE` is the
//! table's (`docker` rows also run on podman's compatible API), `CLASS` is `no` (REST: why
//! the operation cannot be called here) or `call`, whose REST is a JSON object:
//! - `params`: the operation's path, query and header parameters by their spec names (a
//!   JSON-encoded query parameter takes the JSON; `X-Registry-Auth` takes the object);
//! - `body` (JSON) or `bytes` (`context`, `file`, `plugin`, `kube`, or a name kept by an
//!   earlier row's `keep_bytes`);
//! - `save`: `{"var": "/json/pointer"}`, a value of the answer kept as `{var}` (for JSON
//!   lines, from the last item that has it); `{run}` (this run's prefix), `{image}` and
//!   `{registry}` are given; any string may hold placeholders;
//! - `only: "docker"` (with `why`), `min_api` (the negotiated Docker API), `min_version` /
//!   `max_version` (podman's version): where the row applies;
//! - `retry`: attempts, half a second apart, for a call the engine refuses for a while.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use berth::dynamic::{parts_by_name, Data};
use berth::{ApiInfo, Client, OperationInfo, ResponseKind};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

type RoundTrip = fn(&str, u16, &[u8]) -> Option<berth::Result<berth::dynamic::RoundTrip>>;

/// A module of berth the sweep drives: its API table and its `round_trip`.
struct Module {
    name: &'static str,
    api: &'static ApiInfo,
    round_trip: RoundTrip,
}

macro_rules! module {
    ($engine:ident, $name:ident) => {
        Module {
            name: concat!(stringify!($engine), "::", stringify!($name)),
            api: &berth::$engine::$name::API,
            round_trip: berth::$engine::$name::round_trip,
        }
    };
}

/// The Docker modules this build has, oldest first.
// One push per enabled feature: a `vec![]` cannot leave out a disabled one.
#[allow(clippy::vec_init_then_push)]
fn docker_modules() -> Vec<Module> {
    #[allow(unused_mut)]
    let mut modules = Vec::new();
    #[cfg(feature = "docker-v1_41")]
    modules.push(module!(docker, v1_41));
    #[cfg(feature = "docker-v1_51")]
    modules.push(module!(docker, v1_51));
    #[cfg(feature = "docker-v1_55")]
    modules.push(module!(docker, v1_55));
    modules
}

/// The libpod modules this build has.
#[allow(clippy::vec_init_then_push)]
fn podman_modules() -> Vec<Module> {
    #[allow(unused_mut)]
    let mut modules = Vec::new();
    #[cfg(feature = "podman-v4_9")]
    modules.push(module!(podman, v4_9));
    #[cfg(feature = "podman-v5_1_0")]
    modules.push(module!(podman, v5_1_0));
    modules
}

/// One line of a table.
struct Row {
    line: usize,
    operation: String,
    what: What,
}

enum What {
    Call(Box<Call>),
    NotHere,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Call {
    #[serde(default)]
    params: Value,
    body: Option<Value>,
    bytes: Option<String>,
    keep_bytes: Option<String>,
    #[serde(default)]
    save: BTreeMap<String, String>,
    only: Option<String>,
    why: Option<String>,
    min_api: Option<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    /// Attempts, half a second apart, for a call the engine may refuse for a while.
    retry: Option<u32>,
}

fn table(engine: &str) -> Vec<Row> {
    let path = format!("{}/tests/sweep/{engine}.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.splitn(4, char::is_whitespace).map(str::trim);
        let (Some(row_engine), Some(operation), Some(class)) =
            (words.next(), words.next(), words.next())
        else {
            panic!("{path}:{}: expected `ENGINE OPERATION CLASS ...`", n + 1);
        };
        assert_eq!(row_engine, engine, "{path}:{}: the engine", n + 1);
        let rest = words.next().unwrap_or_default().trim();
        let what = match class {
            "call" => {
                What::Call(Box::new(serde_json::from_str(rest).unwrap_or_else(|e| {
                    panic!("{path}:{}: the call's JSON: {e}", n + 1)
                })))
            }
            "no" if !rest.is_empty() => What::NotHere,
            _ => panic!("{path}:{}: the class is `call` or `no REASON`", n + 1),
        };
        rows.push(Row {
            line: n + 1,
            operation: operation.to_string(),
            what,
        });
    }
    rows
}

/// Every operation of every module this build has appears in its engine's table.
#[test]
fn every_operation_is_classified() {
    let mut missing = Vec::new();
    for (engine, modules) in [("docker", docker_modules()), ("podman", podman_modules())] {
        let listed: std::collections::BTreeSet<String> =
            table(engine).into_iter().map(|r| r.operation).collect();
        for module in modules {
            for op in module.api.operations {
                if !listed.contains(op.id) {
                    missing.push(format!("{} {}", module.name, op.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "operations missing from tests/sweep/*.txt: {missing:?}"
    );
}

/// How one module's run went.
#[derive(Default)]
struct Tally {
    called: usize,
    decoded: usize,
    failed: Vec<String>,
    lost: Vec<String>,
    not_here: usize,
    skipped: usize,
    /// `Operation Type.Key`: kept only by an `extra` map (the module's spec does not name it).
    untyped: BTreeSet<String>,
}

/// The engine the sweep talks to, as it says of itself.
struct Engine {
    label: String,
    podman: bool,
    /// Docker: the API version; podman: the engine's version.
    api: String,
    version: String,
}

async fn engine(client: &Client) -> Engine {
    let v = common::engine_version(client).await;
    let text = |key: &str| v[key].as_str().unwrap_or_default().to_string();
    let podman = v["Components"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["Name"].as_str().unwrap_or_default().contains("Podman"));
    let name = if podman { "Podman" } else { "Docker" };
    Engine {
        label: format!("{name} {} (API {})", text("Version"), text("ApiVersion")),
        podman,
        api: text("ApiVersion"),
        version: text("Version"),
    }
}

/// `"1.41"` → (1, 41); `"5.8.6"` → (5, 8, 6) as a comparable vector.
fn version(text: &str) -> Vec<u64> {
    text.split(['.', '-', '+'])
        .map_while(|part| part.parse().ok())
        .collect()
}

#[tokio::test]
async fn docker_engine_sweep() {
    let Some(client) = common::docker().await else {
        return;
    };
    let engine = engine(&client).await;
    let modules = docker_modules();
    let newest = modules.last().map(|m| m.name);
    // The modules the engine accepts, and the newest negotiated down.
    let chosen = modules
        .into_iter()
        .filter(|m| version(m.api.version) <= version(&engine.api) || Some(m.name) == newest);
    let mut report = Vec::new();
    for module in chosen {
        report.push(sweep(&common::docker_uri(), &engine, &module, "docker").await);
    }
    finish(&engine, report);
}

#[tokio::test]
async fn podman_engine_sweep() {
    let Some(client) = common::podman().await else {
        return;
    };
    let engine = engine(&client).await;
    let mut report = Vec::new();
    for module in podman_modules() {
        report.push(sweep(&common::podman_uri(), &engine, &module, "podman").await);
    }
    // The compatible API, as Docker clients see it.
    let modules = docker_modules();
    let newest = modules.last().map(|m| m.name);
    for module in modules
        .into_iter()
        .filter(|m| version(m.api.version) <= version(&engine.api) || Some(m.name) == newest)
    {
        report.push(sweep(&common::podman_uri(), &engine, &module, "docker").await);
    }
    finish(&engine, report);
}

/// Prints the engine's table, writes its rows for `docs/engines.md` and fails on any failure or
/// lost key, listing each.
fn finish(engine: &Engine, report: Vec<(String, Tally)>) {
    let mut rows = String::new();
    let mut problems = Vec::new();
    for (module, tally) in &report {
        rows.push_str(&format!(
            "| {} | {module} | {} | {} | {} | {} | {} | {} |\n",
            engine.label,
            tally.called,
            tally.decoded,
            tally.failed.len(),
            tally.lost.len(),
            tally.untyped.len(),
            tally.not_here + tally.skipped,
        ));
        if !tally.untyped.is_empty() {
            eprintln!(
                "sweep: {} · {module}: kept untyped (in `extra`), the module's spec does not name them:\n  {}",
                engine.label,
                tally.untyped.iter().cloned().collect::<Vec<_>>().join("\n  ")
            );
        }
        problems.extend(tally.failed.iter().chain(&tally.lost).cloned());
    }
    eprintln!(
        "\n| engine | module | called | decoded | failed | lost keys | untyped keys | not called |\n|---|---|---|---|---|---|---|---|\n{rows}"
    );
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sweep");
    std::fs::create_dir_all(&dir).expect("sweep folder");
    let file = engine.label.replace([' ', '(', ')', '/'], "_");
    std::fs::write(dir.join(format!("{file}.md")), &rows).expect("sweep rows");
    assert!(
        problems.is_empty(),
        "{} problems on {}:\n{}",
        problems.len(),
        engine.label,
        problems.join("\n")
    );
}

/// Runs one table with one module against one engine.
async fn sweep(uri: &str, engine: &Engine, module: &Module, table_name: &str) -> (String, Tally) {
    let client = Client::builder(uri)
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let negotiated = if engine.podman && table_name == "podman" {
        String::new()
    } else if version(module.api.version) > version(&engine.api) {
        engine.api.clone()
    } else {
        module.api.version.to_string()
    };
    let module_label = if negotiated.is_empty() || negotiated == module.api.version {
        module.name.to_string()
    } else {
        format!("{} → {negotiated}", module.name)
    };
    let mut vars = Vars::new();
    let mut kept: BTreeMap<String, bytes::Bytes> = BTreeMap::new();
    let mut tally = Tally::default();
    for row in table(table_name) {
        let place = format!(
            "{} · {module_label} · {} (tests/sweep/{table_name}.txt:{})",
            engine.label, row.operation, row.line
        );
        let call = match &row.what {
            What::NotHere => {
                tally.not_here += 1;
                continue;
            }
            What::Call(call) => call,
        };
        let Some(info) = module.api.operation(&row.operation) else {
            tally.skipped += 1;
            continue;
        };
        if !applies(call, engine, &negotiated) {
            tally.skipped += 1;
            continue;
        }
        tally.called += 1;
        let started = std::time::Instant::now();
        let mut untyped = BTreeSet::new();
        let mut attempts = call.retry.unwrap_or(1).max(1);
        let outcome = loop {
            attempts -= 1;
            let outcome = run_row(
                &client,
                module,
                info,
                call,
                &mut vars,
                &mut kept,
                &mut untyped,
            )
            .await;
            match outcome {
                Err(_) if attempts > 0 => tokio::time::sleep(Duration::from_millis(500)).await,
                outcome => break outcome,
            }
        };
        tally
            .untyped
            .extend(untyped.into_iter().map(|key| format!("{} {key}", info.id)));
        let took = started.elapsed();
        if took > Duration::from_secs(10) {
            eprintln!("sweep: slow: {place}: {took:?}");
        }
        match outcome {
            Ok(lost) if lost.is_empty() => tally.decoded += 1,
            Ok(lost) => {
                tally.decoded += 1;
                tally
                    .lost
                    .push(format!("{place}: lost {}", lost.join(", ")));
            }
            Err(message) => tally.failed.push(format!("{place}: {message}")),
        }
    }
    (module_label, tally)
}

/// Whether a row is for this engine and version.
fn applies(call: &Call, engine: &Engine, negotiated: &str) -> bool {
    if let Some(only) = &call.only {
        let _ = &call.why;
        if (only == "docker") == engine.podman {
            return false;
        }
    }
    if let Some(min) = &call.min_api {
        if !negotiated.is_empty() && version(negotiated) < version(min) {
            return false;
        }
    }
    if let Some(min) = &call.min_version {
        if engine.podman && version(&engine.version) < version(min) {
            return false;
        }
    }
    if let Some(max) = &call.max_version {
        if engine.podman && version(&engine.version) > version(max) {
            return false;
        }
    }
    true
}

/// The `{variables}` of a run.
struct Vars(BTreeMap<String, Value>);

impl Vars {
    fn new() -> Vars {
        let run = format!(
            "sweep-{:x}{:x}",
            std::process::id() & 0xfff,
            common::now_secs() & 0xfffff
        );
        let run = format!(
            "{run}{}",
            RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut vars = BTreeMap::new();
        vars.insert("run".into(), Value::String(run));
        vars.insert("image".into(), Value::String(common::test_image()));
        vars.insert("registry".into(), Value::String(common::registry()));
        Vars(vars)
    }

    fn get(&self, name: &str) -> &str {
        self.0.get(name).and_then(Value::as_str).unwrap_or_default()
    }

    /// `value` with every `{name}` of a known variable replaced; a string that is only a
    /// placeholder takes the variable's value as it is (a number stays a number).
    fn fill(&self, value: &Value) -> Result<Value, String> {
        Ok(match value {
            Value::String(s) => self.fill_text(s)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.fill(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        Ok((
                            self.fill_text(k)?.as_str().unwrap_or(k).to_string(),
                            self.fill(v)?,
                        ))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    fn fill_text(&self, text: &str) -> Result<Value, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                let value = self.0.get(name).ok_or_else(|| {
                    format!("no variable {{{name}}} (did the row that saves it fail?)")
                })?;
                if start == 0 && name_len + 2 == rest.len() && out.is_empty() {
                    return Ok(value.clone());
                }
                match value {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
                rest = &after[name_len + 1..];
            } else {
                out.push('{');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Calls one row; `Ok` with the lost keys' paths, or what failed.
async fn run_row(
    client: &Client,
    module: &Module,
    info: &'static OperationInfo,
    call: &Call,
    vars: &mut Vars,
    kept: &mut BTreeMap<String, bytes::Bytes>,
    untyped: &mut BTreeSet<String>,
) -> Result<Vec<String>, String> {
    let params = vars.fill(&call.params)?;
    let data = match (&call.body, &call.bytes) {
        (Some(body), _) => Data::Json(vars.fill(body)?),
        (None, Some(name)) => Data::Bytes(byte_body(name, vars, kept)?.into()),
        (None, None) => Data::None,
    };
    let parts = parts_by_name(info, params, data).map_err(|e| e.to_string())?;
    let response = client.execute(parts).await.map_err(|e| describe(&e))?;
    let status = response.status();
    let mut lost = Vec::new();
    let mut answer = Value::Null;
    match info.response {
        ResponseKind::Buffered => {
            let body = response.bytes().await.map_err(|e| describe(&e))?;
            if let Some(name) = &call.keep_bytes {
                kept.insert(name.clone(), body.clone());
            }
            let sent: Option<Value> = if body.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                serde_json::from_slice(&body).ok()
            };
            match (module.round_trip)(info.id, status, &body) {
                Some(Ok(typed)) => {
                    if let Some(sent) = &sent {
                        lost_keys(sent, &typed.json, "", &mut lost);
                    }
                    untyped.extend(typed.untyped);
                }
                Some(Err(e)) => return Err(describe(&e)),
                None => {}
            }
            answer = sent.unwrap_or(Value::Null);
        }
        ResponseKind::JsonLines => {
            let mut lines = response.into_json_lines::<Value>();
            let mut items = 0;
            while let Some(item) = lines.next().await {
                let item = item.map_err(|e| describe(&e))?;
                items += 1;
                let text = serde_json::to_vec(&item).expect("JSON");
                match (module.round_trip)(info.id, status, &text) {
                    Some(Ok(typed)) => {
                        lost_keys(&item, &typed.json, &format!("[{items}]"), &mut lost);
                        untyped.extend(typed.untyped);
                    }
                    Some(Err(e)) => return Err(format!("item {items}: {}", describe(&e))),
                    None => {}
                }
                for (var, pointer) in &call.save {
                    if let Some(v) = item.pointer(pointer) {
                        vars.0.insert(var.clone(), v.clone());
                    }
                }
            }
        }
        ResponseKind::Bytes => {
            let bytes = response
                .into_byte_stream()
                .collect()
                .await
                .map_err(|e| describe(&e))?;
            if let Some(name) = &call.keep_bytes {
                kept.insert(name.clone(), bytes);
            }
        }
        ResponseKind::Frames => {
            response
                .into_multiplexed()
                .raw()
                .collect()
                .await
                .map_err(|e| describe(&e))?;
        }
        ResponseKind::Upgrade => {
            use tokio::io::AsyncReadExt;
            let mut upgraded = response.into_upgraded().map_err(|e| describe(&e))?;
            let mut sink = Vec::new();
            tokio::time::timeout(Duration::from_secs(10), upgraded.read_to_end(&mut sink))
                .await
                .map_err(|_| "the hijacked stream did not end within 10 s".to_string())?
                .map_err(|e| e.to_string())?;
        }
        ResponseKind::WebSocket => {
            #[allow(unused_mut)]
            let mut socket = response.into_websocket().map_err(|e| describe(&e))?;
            #[cfg(feature = "websocket")]
            tokio::time::timeout(Duration::from_secs(10), async {
                while let Some(message) = socket.next_message().await {
                    message.map_err(|e| describe(&e))?;
                }
                Ok::<(), String>(())
            })
            .await
            .map_err(|_| "the WebSocket did not close within 10 s".to_string())??;
        }
    }
    if info.response != ResponseKind::JsonLines {
        for (var, pointer) in &call.save {
            let value = answer
                .pointer(pointer)
                .ok_or_else(|| format!("the answer has nothing at {pointer} to save as {var}"))?;
            vars.0.insert(var.clone(), value.clone());
        }
    }
    Ok(lost)
}

/// An error with its kind and, for a daemon's, the status and message.
fn describe(error: &berth::Error) -> String {
    match error {
        berth::Error::Decode { path, message, .. } => {
            format!("cannot decode the typed answer at {path}: {message}")
        }
        other => other.to_string(),
    }
}

/// The byte bodies rows name.
fn byte_body(
    name: &str,
    vars: &Vars,
    kept: &BTreeMap<String, bytes::Bytes>,
) -> Result<Vec<u8>, String> {
    let run = vars.get("run");
    let image = vars.get("image");
    Ok(match name {
        "context" => {
            let dockerfile = format!(
                "FROM {image}\nRUN echo built > /built\nLABEL berth.sweep={run}\nEXPOSE 8080\nCMD [\"sleep\", \"300\"]\n"
            );
            common::tar_of(&[("Dockerfile", 0o644, dockerfile.as_bytes())])
        }
        "file" => common::tar_of(&[("sweep.txt", 0o644, b"swept\n")]),
        "plugin" => {
            let config = serde_json::json!({
                "Description": "berth's sweep: a volume plugin that is never enabled",
                "Documentation": "https://example.invalid/berth",
                "Interface": { "Types": ["docker.volumedriver/1.0"], "Socket": "sweep.sock" },
                "Entrypoint": ["/plugin"],
                "Network": { "Type": "host" },
                "Linux": { "Capabilities": [] }
            });
            common::tar_of(&[
                ("config.json", 0o644, config.to_string().as_bytes()),
                ("rootfs/plugin", 0o755, b"#!/bin/sh\n"),
            ])
        }
        "kube" => format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {run}-kube\nspec:\n  containers:\n  - name: main\n    image: {image}\n    command: [\"sleep\", \"300\"]\n"
        )
        .into_bytes(),
        other => kept
            .get(other)
            .map(|b| b.to_vec())
            .ok_or_else(|| format!("no bytes named {other:?} (did the row that keeps them fail?)"))?,
    })
}

/// The paths of the keys in `sent` that `kept` does not hold (a `null` sent is not data).
fn lost_keys(sent: &Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    match (sent, kept) {
        (Value::Object(sent), Value::Object(kept)) => {
            for (key, value) in sent {
                let here = format!("{path}.{key}");
                // Go's JSON reads keys whatever their case: `Id` written for `ID` is kept.
                let found = kept.get(key).or_else(|| {
                    kept.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| v)
                });
                match found {
                    Some(k) => lost_keys(value, k, &here, out),
                    None if value.is_null() => {}
                    None => out.push(here),
                }
            }
        }
        (Value::Array(sent), Value::Array(kept)) => {
            if sent.len() != kept.len() {
                out.push(format!(
                    "{path}[] ({} items sent, {} kept)",
                    sent.len(),
                    kept.len()
                ));
            }
            for (i, (s, k)) in sent.iter().zip(kept).enumerate() {
                lost_keys(s, k, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Null, _) => {}
        (Value::Object(map), _) if map.is_empty() => {}
        (Value::Array(items), _) if items.is_empty() => {}
        (sent, Value::Null) => out.push(format!(
            "{} (the typed answer has nothing; the engine sent {})",
            if path.is_empty() { "." } else { path },
            kind_of(sent)
        )),
        (Value::Object(_) | Value::Array(_), kept) => out.push(format!(
            "{} ({} sent, {} kept)",
            if path.is_empty() { "." } else { path },
            kind_of(sent),
            kind_of(kept)
        )),
        _ => {}
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
