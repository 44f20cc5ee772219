//! Stream decoders hold under any input: any split of the same bytes into chunks gives the
//! same items, in process and through berth's HTTP client reading a chunked body from a
//! fake engine (`decoders/chunked.rs`); a huge line is decoded in linear time, and a line
//! over the limit ends the stream. Needs no engine.

#[path = "decoders/chunked.rs"]
mod chunked;

use std::fmt::Debug;

use berth::stream::{ByteStream, Frame, FrameStream, JsonLines, StreamKind};
use berth::Error;
use bytes::Bytes;
use chunked::Cuts;
use futures_util::{Stream, StreamExt};
use proptest::collection::vec;
use proptest::prelude::*;

/// The most payload one `Frame` carries (documented on `Frame`).
const PIECE: usize = 64 << 10;

/// A stream item as compared between splits: the value, or the error's text and the bytes
/// it kept.
#[derive(Debug, PartialEq)]
enum Got<T> {
    Item(T),
    Error(String),
}

fn got<T>(item: berth::Result<T>) -> Got<T> {
    match item {
        Ok(value) => Got::Item(value),
        // The bytes kept with output that is not frames are those of the chunk it came in.
        Err(e @ Error::Decode { .. }) if e.to_string().contains("not a multiplexed") => {
            let Error::Decode {
                operation, message, ..
            } = e
            else {
                unreachable!()
            };
            Got::Error(format!("{operation}: {message}"))
        }
        Err(e) => Got::Error(format!("{e} {:?}", e.body())),
    }
}

async fn all<T: Debug>(stream: impl Stream<Item = berth::Result<T>>) -> Vec<Got<T>> {
    stream.map(got).collect().await
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `bytes` as a body of chunks of the given sizes (taken in turn), answering `operation`.
fn body(bytes: &[u8], sizes: &[usize], operation: &str) -> ByteStream {
    let chunks: Vec<berth::Result<Bytes>> = chunked::cut(bytes, sizes)
        .into_iter()
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    ByteStream::from_stream(futures_util::stream::iter(chunks), operation)
}

fn whole(bytes: &[u8], operation: &str) -> ByteStream {
    body(bytes, &[bytes.len()], operation)
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![vec(1usize..16, 1..8), vec(1usize..5000, 1..8)]
}

fn cuts() -> impl Strategy<Value = Cuts> {
    let writes = vec((1usize..3000, any::<bool>()), 1..8);
    (vec(1usize..4000, 1..6), writes).prop_map(|(chunks, writes)| Cuts { chunks, writes })
}

// ---------------------------------------------------------------------------------------
// Frames

/// Frames (stream byte, payload length) and how the bytes end.
#[derive(Debug, Clone)]
struct Frames {
    frames: Vec<(u8, usize)>,
    tail: Tail,
}

#[derive(Debug, Clone)]
enum Tail {
    Clean,
    /// The last frame misses its last bytes: 1 to its whole size less one, from this.
    Cut(usize),
    /// Bytes that are not a frame header follow.
    NotFrames,
}

impl Frames {
    fn bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (n, (stream, len)) in self.frames.iter().enumerate() {
            bytes.extend_from_slice(&[*stream, 0, 0, 0]);
            bytes.extend_from_slice(&(*len as u32).to_be_bytes());
            bytes.extend((0..*len).map(|i| (n * 31 + i) as u8));
        }
        match self.tail {
            Tail::Clean => {}
            Tail::Cut(_) => bytes.truncate(bytes.len() - self.cut()),
            Tail::NotFrames => bytes.extend_from_slice(b"hello from a TTY\r\n"),
        }
        bytes
    }

    /// How many bytes a `Cut` takes off (none without frames).
    fn cut(&self) -> usize {
        match (self.tail.clone(), self.frames.last()) {
            (Tail::Cut(n), Some((_, len))) => 1 + n % (8 + len - 1),
            _ => 0,
        }
    }

    fn clean(&self) -> bool {
        match self.tail {
            Tail::Clean => true,
            Tail::Cut(_) => self.cut() == 0,
            Tail::NotFrames => false,
        }
    }

    /// What the frames decode to, with no tail: each frame whole, or in pieces of 64 KiB.
    fn expected(&self) -> Vec<Got<Frame>> {
        let mut frames = Vec::new();
        for (n, (stream, len)) in self.frames.iter().enumerate() {
            let stream = [
                StreamKind::Stdin,
                StreamKind::Stdout,
                StreamKind::Stderr,
                StreamKind::System,
            ][*stream as usize];
            let payload: Bytes = (0..*len).map(|i| (n * 31 + i) as u8).collect();
            let mut start = 0;
            loop {
                let end = (start + PIECE).min(payload.len());
                let data = payload.slice(start..end);
                frames.push(Got::Item(Frame { stream, data }));
                start = end;
                if start == payload.len() {
                    break;
                }
            }
        }
        frames
    }
}

fn frames() -> impl Strategy<Value = Frames> {
    let len = prop_oneof![8 => 0usize..64, 2 => 64usize..4096, 1 => PIECE - 10..2 * PIECE + 10];
    let tail = prop_oneof![
        3 => Just(Tail::Clean),
        1 => any::<usize>().prop_map(Tail::Cut),
        1 => Just(Tail::NotFrames),
    ];
    (vec((0u8..4, len), 0..8), tail).prop_map(|(frames, tail)| Frames { frames, tail })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn frames_are_the_same_whatever_the_chunks(frames in frames(), sizes in chunk_sizes()) {
        let bytes = frames.bytes();
        let rt = runtime();
        let reference = rt.block_on(all(FrameStream::new(whole(&bytes, "Test"))));
        let split = rt.block_on(all(FrameStream::new(body(&bytes, &sizes, "Test"))));
        prop_assert_eq!(&split, &reference);
        if frames.clean() {
            prop_assert_eq!(reference, frames.expected());
        } else {
            // What came before the damage, then one error: the last item.
            prop_assert!(matches!(reference.last(), Some(Got::Error(_))), "{:?}", reference.last());
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON lines

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Progress {
    status: String,
}

#[derive(Debug, Clone)]
enum Line {
    Item(String),
    /// Whitespace only: skipped.
    Blank(String),
    /// An item the engine marks as an error.
    ErrorItem(u8),
    /// JSON that is not a `Progress`.
    Undecodable,
    /// An item with a status of this many bytes.
    Long(usize),
}

#[derive(Debug, Clone)]
struct Lines {
    lines: Vec<(Line, bool)>,
    /// The last line has no line ending.
    open_end: bool,
    limit: usize,
}

impl Lines {
    fn bytes(&self) -> Vec<u8> {
        let mut text = String::new();
        for (n, (line, crlf)) in self.lines.iter().enumerate() {
            text.push_str(&match line {
                Line::Item(status) => format!("{{\"status\":\"{status}\"}}"),
                Line::Blank(space) => space.clone(),
                Line::ErrorItem(code) => format!("{{\"error\":\"failed {code}\"}}"),
                Line::Undecodable => "{\"status\":17}".to_string(),
                Line::Long(len) => format!("{{\"status\":\"{}\"}}", "x".repeat(*len)),
            });
            if !(self.open_end && n + 1 == self.lines.len()) {
                text.push_str(if *crlf { "\r\n" } else { "\n" });
            }
        }
        text.into_bytes()
    }

    /// Whether each item decodes, to the first error (the last item).
    fn expected_kinds(&self) -> Vec<bool> {
        let mut kinds = Vec::new();
        for (line, crlf) in &self.lines {
            let length = match line {
                Line::Item(status) => status.len() + 13,
                Line::Long(len) => len + 13,
                _ => 0,
            } + usize::from(*crlf);
            match line {
                Line::Blank(_) => continue,
                Line::Item(_) | Line::Long(_) if length <= self.limit => kinds.push(true),
                _ => {
                    kinds.push(false);
                    break;
                }
            }
        }
        kinds
    }
}

fn lines() -> impl Strategy<Value = Lines> {
    let status = vec(proptest::char::range('a', 'z'), 0..12).prop_map(String::from_iter);
    let blank = vec(prop_oneof![Just(' '), Just('\t')], 0..4).prop_map(String::from_iter);
    let line = prop_oneof![
        8 => status.prop_map(Line::Item),
        2 => blank.prop_map(Line::Blank),
        1 => any::<u8>().prop_map(Line::ErrorItem),
        1 => Just(Line::Undecodable),
        1 => (50usize..300).prop_map(Line::Long),
    ];
    let limit = prop_oneof![Just(usize::MAX), 40usize..200];
    (vec((line, any::<bool>()), 0..16), any::<bool>(), limit).prop_map(
        |(lines, open_end, limit)| Lines {
            lines,
            open_end,
            limit,
        },
    )
}

async fn progress(body: ByteStream, limit: usize) -> Vec<Got<Progress>> {
    all(JsonLines::<Progress>::new(body).max_line_length(limit)).await
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn json_lines_are_the_same_whatever_the_chunks(lines in lines(), sizes in chunk_sizes()) {
        let bytes = lines.bytes();
        let rt = runtime();
        let reference = rt.block_on(progress(whole(&bytes, "Test"), lines.limit));
        let split = rt.block_on(progress(body(&bytes, &sizes, "Test"), lines.limit));
        prop_assert_eq!(&split, &reference);
        let kinds: Vec<bool> = reference.iter().map(|g| matches!(g, Got::Item(_))).collect();
        prop_assert_eq!(kinds, lines.expected_kinds());
    }
}

// ---------------------------------------------------------------------------------------
// Chunked HTTP bodies, read by berth's client

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    (0usize..40_000, any::<u8>()).prop_map(|(len, seed)| {
        (0..len)
            .map(|i| ((i * seed as usize) ^ (i >> 7)) as u8)
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_chunked_body_comes_whole(bytes in body_bytes(), cuts in cuts()) {
        let received = runtime().block_on(async {
            let response = chunked::fetch(&bytes, &cuts).await?;
            response.into_byte_stream().collect().await
        });
        prop_assert_eq!(&received.expect("the body")[..], &bytes[..]);
    }

    #[test]
    fn frames_over_a_chunked_body(frames in frames(), cuts in cuts()) {
        let bytes = frames.bytes();
        let rt = runtime();
        let (operation, received) = rt.block_on(async {
            let response = chunked::fetch(&bytes, &cuts).await.expect("an answer");
            let operation = response.operation().to_string();
            (operation, all(response.into_multiplexed().frames()).await)
        });
        let reference = rt.block_on(all(FrameStream::new(whole(&bytes, &operation))));
        prop_assert_eq!(received, reference);
    }

    #[test]
    fn json_lines_over_a_chunked_body(lines in lines(), cuts in cuts()) {
        let bytes = lines.bytes();
        let rt = runtime();
        let (operation, received) = rt.block_on(async {
            let response = chunked::fetch(&bytes, &cuts).await.expect("an answer");
            let operation = response.operation().to_string();
            let items = response.into_json_lines::<Progress>().max_line_length(lines.limit);
            (operation, all(items).await)
        });
        let reference = rt.block_on(progress(whole(&bytes, &operation), lines.limit));
        prop_assert_eq!(received, reference);
    }
}

// ---------------------------------------------------------------------------------------
// Long lines

/// `line` as a body of 64 KiB chunks.
fn in_64k_chunks(line: Vec<u8>) -> ByteStream {
    let line = Bytes::from(line);
    let chunks: Vec<berth::Result<Bytes>> = (0..line.len())
        .step_by(64 << 10)
        .map(|start| Ok(line.slice(start..(start + (64 << 10)).min(line.len()))))
        .collect();
    ByteStream::from_stream(futures_util::stream::iter(chunks), "ImageCreate")
}

#[tokio::test]
async fn a_64_mib_line_without_newline_decodes() {
    let mut line = vec![b'x'; 64 << 20];
    (line[0], *line.last_mut().unwrap()) = (b'"', b'"');
    let mut items =
        JsonLines::<serde_json::Value>::new(in_64k_chunks(line)).max_line_length(usize::MAX);
    let value = items
        .next()
        .await
        .expect("one item")
        .expect("a JSON string");
    assert_eq!(value.as_str().map(str::len), Some((64 << 20) - 2));
    assert!(items.next().await.is_none());
}

#[tokio::test]
async fn a_line_over_the_default_limit_ends_the_stream() {
    let mut line = vec![b' '; (16 << 20) + 100];
    line.extend_from_slice(b"{}\n{}\n");
    let mut items = JsonLines::<serde_json::Value>::new(in_64k_chunks(line));
    match items.next().await {
        Some(Err(error @ Error::Decode { .. })) => {
            let text = error.to_string();
            assert!(text.starts_with("ImageCreate: "), "{text}");
            assert!(text.contains("limit of 16777216 bytes"), "{text}");
            assert_eq!(error.body().map(Bytes::len), Some(16 << 20));
        }
        other => panic!("expected the line-length error, got {other:?}"),
    }
    assert!(items.next().await.is_none());
}
