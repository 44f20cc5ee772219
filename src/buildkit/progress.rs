//! The build's progress: the `moby.buildkit.trace` items of the answer (base64 protobuf
//! `StatusResponse` of control.proto) as typed updates, and a renderer that prints them as
//! `docker build --progress=plain` does.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use prost::Message;

use super::proto::moby::buildkit::v1 as control;

/// One trace item: what changed since the last one (vertexes are sent again as they start,
/// complete or fail).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildUpdate {
    pub vertexes: Vec<Vertex>,
    pub statuses: Vec<VertexStatus>,
    pub logs: Vec<VertexLog>,
    pub warnings: Vec<VertexWarning>,
}

/// A step of the build graph (`[2/3] RUN make`, `[internal] load build context`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vertex {
    /// Its identity across updates.
    pub digest: String,
    pub inputs: Vec<String>,
    pub name: String,
    /// Its result came from the cache.
    pub cached: bool,
    pub started: Option<SystemTime>,
    pub completed: Option<SystemTime>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Progress of one piece of a vertex's work (`transferring context: 2.05kB`, a layer's
/// download).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VertexStatus {
    pub id: String,
    pub vertex: String,
    pub name: String,
    pub current: i64,
    /// 0 when unknown.
    pub total: i64,
    pub timestamp: Option<SystemTime>,
    pub started: Option<SystemTime>,
    pub completed: Option<SystemTime>,
}

/// Output of a vertex's process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VertexLog {
    pub vertex: String,
    pub timestamp: Option<SystemTime>,
    pub stream: LogStream,
    pub data: Bytes,
}

/// Which of a process's streams a log piece is from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogStream {
    #[default]
    Stdout,
    Stderr,
    /// Another descriptor, as BuildKit numbered it.
    Other(i64),
}

/// A warning about the build (an undefined `ARG`, a deprecated form): Docker 28's
/// frontends send them; Docker 20.10's never do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VertexWarning {
    pub vertex: String,
    pub level: i64,
    pub short: String,
    pub detail: Vec<String>,
    pub url: String,
}

/// Decodes a trace item's `aux` (base64 of a protobuf `StatusResponse`).
pub(crate) fn decode_trace(aux: &str) -> Result<BuildUpdate, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(aux)
        .map_err(|e| format!("a trace item is not base64: {e}"))?;
    let status = control::StatusResponse::decode(bytes.as_slice())
        .map_err(|e| format!("a trace item is not a StatusResponse: {e}"))?;
    Ok(BuildUpdate {
        vertexes: status
            .vertexes
            .into_iter()
            .map(|v| Vertex {
                digest: v.digest,
                inputs: v.inputs,
                name: v.name,
                cached: v.cached,
                started: time(v.started),
                completed: time(v.completed),
                error: (!v.error.is_empty()).then_some(v.error),
            })
            .collect(),
        statuses: status
            .statuses
            .into_iter()
            .map(|s| VertexStatus {
                id: s.id,
                vertex: s.vertex,
                name: s.name,
                current: s.current,
                total: s.total,
                timestamp: time(s.timestamp),
                started: time(s.started),
                completed: time(s.completed),
            })
            .collect(),
        logs: status
            .logs
            .into_iter()
            .map(|l| VertexLog {
                vertex: l.vertex,
                timestamp: time(l.timestamp),
                stream: match l.stream {
                    1 => LogStream::Stdout,
                    2 => LogStream::Stderr,
                    n => LogStream::Other(n),
                },
                data: Bytes::from(l.msg),
            })
            .collect(),
        warnings: status
            .warnings
            .into_iter()
            .map(|w| VertexWarning {
                vertex: w.vertex,
                level: w.level,
                short: String::from_utf8_lossy(&w.short).into_owned(),
                detail: w
                    .detail
                    .iter()
                    .map(|d| String::from_utf8_lossy(d).into_owned())
                    .collect(),
                url: w.url,
            })
            .collect(),
    })
}

fn time(t: Option<prost_types::Timestamp>) -> Option<SystemTime> {
    let t = t?;
    let since = Duration::new(u64::try_from(t.seconds).ok()?, u32::try_from(t.nanos).ok()?);
    Some(SystemTime::UNIX_EPOCH + since)
}

/// What the build has said of each vertex so far: names for errors, and the last lines of
/// each one's log.
#[derive(Debug, Default)]
pub(crate) struct History {
    names: HashMap<String, String>,
    logs: HashMap<String, VecDeque<String>>,
    /// The vertex that failed last, and why.
    pub(crate) failed: Option<(String, String)>,
}

/// How many lines of a failed step's log its error keeps.
pub(crate) const LOG_TAIL: usize = 10;

impl History {
    pub(crate) fn record(&mut self, update: &BuildUpdate) {
        for v in &update.vertexes {
            self.names.insert(v.digest.clone(), v.name.clone());
            if let Some(error) = &v.error {
                if !error.ends_with("context canceled") {
                    self.failed = Some((v.digest.clone(), error.clone()));
                }
            }
        }
        for log in &update.logs {
            let lines = self.logs.entry(log.vertex.clone()).or_default();
            for line in String::from_utf8_lossy(&log.data).lines() {
                lines.push_back(line.to_string());
                if lines.len() > LOG_TAIL {
                    lines.pop_front();
                }
            }
        }
    }

    /// The failed step's name, and the last lines of its log.
    pub(crate) fn failure(&self) -> (Option<String>, Vec<String>) {
        match &self.failed {
            Some((digest, _)) => (
                self.names.get(digest).cloned(),
                self.logs
                    .get(digest)
                    .map(|l| l.iter().cloned().collect())
                    .unwrap_or_default(),
            ),
            None => (None, Vec::new()),
        }
    }
}

/// Renders updates as `docker build --progress=plain` prints them: `#N name`, status lines,
/// log lines with their time since the step started, and `#N DONE 0.3s`, `#N CACHED`,
/// `#N ERROR: ...`. Numbers are given as vertexes are first seen.
#[derive(Debug, Default)]
pub struct PlainProgress {
    numbers: HashMap<String, usize>,
    started: HashMap<String, SystemTime>,
    done: std::collections::HashSet<String>,
    /// The vertex whose lines were printed last: a header is printed on a switch.
    current: Option<String>,
    names: HashMap<String, String>,
    statuses_done: std::collections::HashSet<(String, String)>,
}

impl PlainProgress {
    pub fn new() -> PlainProgress {
        PlainProgress::default()
    }

    /// The text this update adds (lines end with `\n`).
    pub fn render(&mut self, update: &BuildUpdate) -> String {
        let mut out = String::new();
        for v in &update.vertexes {
            let next = self.numbers.len() + 1;
            self.numbers.entry(v.digest.clone()).or_insert(next);
            self.names.insert(v.digest.clone(), v.name.clone());
            if let Some(started) = v.started {
                self.started.entry(v.digest.clone()).or_insert(started);
            }
        }
        for s in &update.statuses {
            let key = (s.vertex.clone(), s.id.clone());
            if s.completed.is_none() || !self.statuses_done.insert(key) {
                continue; // printed once, when it completes
            }
            self.header(&mut out, &s.vertex);
            let n = self.number(&s.vertex);
            let mut line = format!("#{n} {}", s.id);
            if s.total > 0 {
                line += &format!(" {} / {}", units(s.current), units(s.total));
            } else if s.current > 0 {
                line += &format!(" {}", units(s.current));
            }
            if let (Some(start), Some(end)) = (s.started, s.completed) {
                let secs = end.duration_since(start).unwrap_or_default().as_secs_f64();
                if secs > 0.01 {
                    line += &format!(" {secs:.1}s");
                }
            }
            out += &line;
            out += " done\n";
        }
        for log in &update.logs {
            self.header(&mut out, &log.vertex);
            let n = self.number(&log.vertex);
            let since = match (self.started.get(&log.vertex), log.timestamp) {
                (Some(start), Some(at)) => at.duration_since(*start).unwrap_or_default(),
                _ => Duration::ZERO,
            };
            let secs = since.as_secs_f64();
            let at = if secs < 10.0 {
                format!("{secs:.3}")
            } else if secs < 100.0 {
                format!("{secs:.2}")
            } else {
                format!("{secs:.1}")
            };
            for line in String::from_utf8_lossy(&log.data).lines() {
                out += &format!("#{n} {at} {line}\n");
            }
        }
        for w in &update.warnings {
            let n = self.number(&w.vertex);
            out += &format!("#{n} WARN: {}\n", w.short);
        }
        for v in &update.vertexes {
            let finished = v.completed.is_some() || v.cached || v.error.is_some();
            if !finished || !self.done.insert(v.digest.clone()) {
                continue;
            }
            self.header(&mut out, &v.digest);
            let n = self.number(&v.digest);
            match (&v.error, v.cached) {
                (Some(e), _) if e.ends_with("context canceled") => {
                    out += &format!("#{n} CANCELED\n")
                }
                (Some(e), _) => out += &format!("#{n} ERROR: {e}\n"),
                (None, true) => out += &format!("#{n} CACHED\n"),
                (None, false) => {
                    let secs = match (v.started, v.completed) {
                        (Some(s), Some(c)) => c.duration_since(s).unwrap_or_default().as_secs_f64(),
                        _ => 0.0,
                    };
                    out += &format!("#{n} DONE {secs:.1}s\n");
                }
            }
        }
        out
    }

    fn number(&self, vertex: &str) -> usize {
        self.numbers.get(vertex).copied().unwrap_or(0)
    }

    /// `#N name` when the output switches to another vertex, after a blank line.
    fn header(&mut self, out: &mut String, vertex: &str) {
        if self.current.as_deref() == Some(vertex) {
            return;
        }
        if self.current.is_some() {
            out.push('\n');
        }
        self.current = Some(vertex.to_string());
        let n = self.number(vertex);
        let name = self.names.get(vertex).map(String::as_str).unwrap_or("");
        *out += &format!("#{n} {name}\n");
    }
}

/// Byte counts as the CLI prints them: `37B`, `2.05kB`, `1.05MB`.
fn units(n: i64) -> String {
    let mut value = n as f64;
    if value < 1000.0 {
        return format!("{n}B");
    }
    for unit in ["kB", "MB", "GB", "TB"] {
        value /= 1000.0;
        if value < 1000.0 {
            return format!("{value:.2}{unit}");
        }
    }
    format!("{value:.2}PB")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(status: control::StatusResponse) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(status.encode_to_vec())
    }

    fn at(seconds: i64, nanos: i32) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos })
    }

    #[test]
    fn trace_items_decode_and_render_as_plain_progress() {
        let digest = "sha256:aaa".to_string();
        let start = control::StatusResponse {
            vertexes: vec![control::Vertex {
                digest: digest.clone(),
                name: "[2/2] RUN echo hi".into(),
                started: at(100, 0),
                ..Default::default()
            }],
            logs: vec![control::VertexLog {
                vertex: digest.clone(),
                timestamp: at(100, 215_000_000),
                stream: 1,
                msg: b"hi\n".to_vec(),
            }],
            ..Default::default()
        };
        let end = control::StatusResponse {
            vertexes: vec![control::Vertex {
                digest: digest.clone(),
                name: "[2/2] RUN echo hi".into(),
                started: at(100, 0),
                completed: at(100, 300_000_000),
                ..Default::default()
            }],
            ..Default::default()
        };
        let first = decode_trace(&trace(start)).unwrap();
        assert_eq!(first.vertexes[0].name, "[2/2] RUN echo hi");
        assert_eq!(first.logs[0].stream, LogStream::Stdout);
        let mut plain = PlainProgress::new();
        let mut text = plain.render(&first);
        text += &plain.render(&decode_trace(&trace(end)).unwrap());
        assert_eq!(text, "#1 [2/2] RUN echo hi\n#1 0.215 hi\n#1 DONE 0.3s\n");
    }

    #[test]
    fn a_failed_vertex_is_remembered_with_its_last_lines() {
        let mut history = History::default();
        history.record(&BuildUpdate {
            vertexes: vec![Vertex {
                digest: "d".into(),
                name: "[1/1] RUN false".into(),
                error: Some("exit code: 1".into()),
                ..Default::default()
            }],
            logs: (0..15)
                .map(|i| VertexLog {
                    vertex: "d".into(),
                    data: Bytes::from(format!("line {i}\n")),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        let (step, log) = history.failure();
        assert_eq!(step.as_deref(), Some("[1/1] RUN false"));
        assert_eq!(log.len(), LOG_TAIL);
        assert_eq!(log.last().map(String::as_str), Some("line 14"));
        assert!(decode_trace("not base64!").is_err());
        assert_eq!(units(37), "37B");
        assert_eq!(units(2048), "2.05kB");
    }
}
