//! A fake engine answering one request with an HTTP/1.1 chunked body: the answer's bytes
//! (head, chunk sizes, data, CRLFs) go out in writes of sizes drawn by the test, each
//! flushed and, when asked, followed by a pause so that the client reads them apart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use berth::{Client, Method, RawResponse, ResponseKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

/// How an answer is cut: HTTP chunk sizes, and write sizes with a pause flag. Both lists
/// are used in turn, round and round, until the bytes are used up.
#[derive(Debug, Clone)]
pub struct Cuts {
    pub chunks: Vec<usize>,
    pub writes: Vec<(usize, bool)>,
}

/// Pauses happen among the first writes only, so that a large body stays quick.
const MAX_PAUSES: usize = 12;

/// `body` in `Transfer-Encoding: chunked`, behind a 200 head.
fn chunked_answer(body: &[u8], chunk_sizes: &[usize]) -> Vec<u8> {
    let mut answer =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for chunk in cut(body, chunk_sizes) {
        answer.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        answer.extend_from_slice(chunk);
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(b"0\r\n\r\n");
    answer
}

/// `bytes` cut into pieces of the given sizes, taken in turn.
pub fn cut<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).clamp(1, rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

static ENGINES: AtomicUsize = AtomicUsize::new(0);

/// Serves `body` once, cut as `cuts` says, and returns berth's streaming answer to
/// `GET /x`. The engine's socket lives in a fresh temporary directory, removed on return.
pub async fn fetch(body: &[u8], cuts: &Cuts) -> berth::Result<RawResponse> {
    let n = ENGINES.fetch_add(1, SeqCst);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("berth-decoders-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("engine.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let answer = chunked_answer(body, &cuts.chunks);
    let writes = cuts.writes.clone();
    let engine = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await?;
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if conn.read(&mut byte).await? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let sizes: Vec<usize> = writes.iter().map(|(size, _)| *size).collect();
        let pauses = writes.iter().map(|(_, pause)| *pause).cycle();
        for (i, (piece, pause)) in cut(&answer, &sizes).into_iter().zip(pauses).enumerate() {
            conn.write_all(piece).await?;
            conn.flush().await?;
            if pause && i < MAX_PAUSES {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        conn.shutdown().await?;
        std::io::Result::Ok(())
    });
    let client = Client::builder(format!("unix://{}", path.display()))
        .version_policy(berth::VersionPolicy::Off)
        .timeout(Duration::from_secs(20))
        .build()?;
    let response = client
        .request(Method::Get, "/x")
        .response(ResponseKind::Bytes)
        .send()
        .await;
    // The engine goes on writing while the caller reads; it ends with its connection.
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    response
}
