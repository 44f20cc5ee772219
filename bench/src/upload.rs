//! Uploading a streamed body: `PutContainerArchive` of a tar made on the fly (one file of
//! 100 MB or 1 GB of zeros) into a created container, each upload in a child process of its
//! own (see `child`), so that its peak RSS shows whether the body is buffered.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use berth::docker::v1_41::{containers, models};
use bytes::Bytes;

use crate::child::{spawn, Child, Run};
use crate::hyper_loops::Hyper;
use crate::measure::cpu_time;
use crate::setup::{remove, IMAGE};
use crate::Result;

/// The two upload sizes: the memory check compares them.
pub const SIZES: [u64; 2] = [100_000_000, 1_000_000_000];
/// The clients that upload (berth is the one the targets judge).
pub const CLIENTS: [&str; 2] = ["berth", "bollard"];
/// The container the archives go into, made for the run and removed after it.
const CONTAINER: &str = "berth-bench-upload";
/// Where the one file of the archive lands.
const DIR: &str = "/tmp";
const FILE: &str = "berth-bench-upload";
const CHUNK: usize = 64 * 1024;

/// A tar of one file of `size` zero bytes, made as it is sent: the 512-byte ustar header,
/// the data as 64 KiB chunks that are all the same `Bytes` (a clone is a reference count,
/// so the stream allocates nothing after `new`), the padding to a 512-byte block and the
/// two zero blocks that end an archive.
pub struct Tar {
    header: Option<Bytes>,
    zeros: Bytes,
    left: u64,
    tail: usize,
}

impl Tar {
    /// `mode` is the file's permission bits: each upload of a run gets other bits than the
    /// one before, so that the check after it sees that this upload landed.
    pub fn new(size: u64, mode: u32) -> Result<Tar> {
        let mut header = tar::Header::new_ustar();
        header.set_path(FILE)?;
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        let zeros = Bytes::from(vec![0; CHUNK]);
        // The first clone turns the vector into a shared buffer (one small allocation);
        // made here, before any clock starts.
        drop(zeros.clone());
        Ok(Tar {
            header: Some(Bytes::copy_from_slice(header.as_bytes())),
            zeros,
            left: size,
            tail: padding(size) as usize + 1024,
        })
    }

    /// The archive's length in bytes.
    pub fn len(size: u64) -> u64 {
        512 + size + padding(size) + 1024
    }
}

fn padding(size: u64) -> u64 {
    (512 - size % 512) % 512
}

impl Iterator for Tar {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if let Some(header) = self.header.take() {
            return Some(header);
        }
        if self.left > 0 {
            let n = self.left.min(CHUNK as u64) as usize;
            self.left -= n as u64;
            return Some(if n == CHUNK {
                self.zeros.clone()
            } else {
                self.zeros.slice(..n)
            });
        }
        if self.tail > 0 {
            let n = std::mem::take(&mut self.tail);
            return Some(self.zeros.slice(..n));
        }
        None
    }
}

/// The child's side: one upload of a tar of a `size`-byte file with one client. The client
/// is made, and connected, before the clock starts.
/// The bytes reported are those the client took from the stream.
pub async fn upload(client: &str, socket: &str, id: &str, size: u64, mode: u32) -> Result<Run> {
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let tar = Tar::new(size, mode)?.inspect(move |chunk| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    });
    let (t, cpu) = match client {
        "berth" => {
            let berth = berth::Client::new(&format!("unix://{socket}"))?;
            berth.server_version().await?;
            let body = berth::Body::wrap_stream(futures_util::stream::iter(
                tar.map(Ok::<_, std::io::Error>),
            ));
            let (t, cpu) = (Instant::now(), cpu_time()?);
            berth
                .invoke(containers::PutContainerArchive {
                    id: id.into(),
                    path: DIR.into(),
                    body,
                    ..Default::default()
                })
                .await?;
            (t, cpu)
        }
        "bollard" => {
            let docker = crate::setup::bollard(socket, 600).await?;
            let body = bollard::body_stream(futures_util::stream::iter(tar));
            let options = bollard::query_parameters::UploadToContainerOptions {
                path: DIR.into(),
                ..Default::default()
            };
            let (t, cpu) = (Instant::now(), cpu_time()?);
            docker.upload_to_container(id, Some(options), body).await?;
            (t, cpu)
        }
        other => return Err(format!("unknown uploading client {other:?}").into()),
    };
    let wall = t.elapsed();
    Ok(Run {
        bytes: sent.load(Ordering::Relaxed),
        wall,
        cpu: cpu_time()?.saturating_sub(cpu),
    })
}

/// The parent's side: [size][client] -> one upload per round.
pub type Uploads = [[Vec<Child>; CLIENTS.len()]; SIZES.len()];

/// Every upload of every round, into a container made for them and removed after them
/// (whether they succeed or not). After each upload, the file's size and mode in the
/// container are checked.
pub async fn run(
    exe: &Path,
    socket: &str,
    berth: &berth::Client,
    rounds: usize,
) -> Result<Uploads> {
    let leftover = berth
        .invoke(containers::ContainerDelete {
            id: CONTAINER.into(),
            force: Some(true),
            ..Default::default()
        })
        .await;
    match leftover {
        Ok(()) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    let created = berth
        .invoke(containers::ContainerCreate {
            name: Some(CONTAINER.into()),
            body: models::ContainerCreateBody {
                image: Some(IMAGE.into()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let result = uploads(exe, socket, &created.id, rounds).await;
    let removed = remove(berth, &created.id).await;
    let uploads = result?;
    removed?;
    Ok(uploads)
}

async fn uploads(exe: &Path, socket: &str, id: &str, rounds: usize) -> Result<Uploads> {
    let mut out: Uploads = Default::default();
    let mut count = 0u32;
    for round in 0..rounds {
        for (s, &size) in SIZES.iter().enumerate() {
            for step in 0..CLIENTS.len() {
                // The clients take turns going first.
                let c = (step + round) % CLIENTS.len();
                let mode = 0o640 | (count % 8);
                count += 1;
                let args = [size.to_string(), mode.to_string()];
                let args = ["--upload", CLIENTS[c], socket, id, &args[0], &args[1]];
                let run = spawn(exe, CLIENTS[c], &args)?;
                if run.bytes != Tar::len(size) {
                    return Err(format!(
                        "{} took {} bytes of the {}-byte tar",
                        CLIENTS[c],
                        run.bytes,
                        Tar::len(size)
                    )
                    .into());
                }
                check(socket, id, size, mode, CLIENTS[c]).await?;
                out[s][c].push(run);
            }
        }
    }
    Ok(out)
}

/// The uploaded file is there with the size and the mode of the last upload (read with a
/// HEAD of its archive: the daemon's stat, base64 JSON in a header).
async fn check(socket: &str, id: &str, size: u64, mode: u32, client: &str) -> Result<()> {
    let mut hyper = Hyper::connect(socket).await?;
    let path = format!("/v1.41/containers/{id}/archive?path={DIR}/{FILE}");
    let headers = hyper.head(&path).await?;
    let stat = headers
        .get("x-docker-container-path-stat")
        .ok_or("no X-Docker-Container-Path-Stat in the answer")?;
    let stat = String::from_utf8(base64_decode(stat.as_bytes())?)?;
    if !stat.contains(&format!("\"size\":{size},")) || !stat.contains(&format!("\"mode\":{mode},"))
    {
        return Err(format!(
            "after {client}'s upload of {size} bytes (mode {mode:o}), the file is {stat}"
        )
        .into());
    }
    Ok(())
}

/// Standard base64, padded (as Go's `base64.StdEncoding` writes it).
fn base64_decode(text: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return Err(format!("not base64: {:?}", String::from_utf8_lossy(text)).into()),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{base64_decode, Tar};

    #[test]
    fn base64_decodes_padded_text() {
        assert_eq!(base64_decode(b"eyJhIjoxfQ==").unwrap(), br#"{"a":1}"#);
        assert_eq!(base64_decode(b"YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode(b"YWI=").unwrap(), b"ab");
        assert!(base64_decode(b"a b").is_err());
    }

    #[test]
    fn the_tar_is_one_file_of_zeros_that_tar_reads_back() {
        for size in [0u64, 1, 511, 512, 513, 65536, 65537, 200_000] {
            let chunks: Vec<_> = Tar::new(size, 0o644).unwrap().collect();
            let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            assert_eq!(bytes.len() as u64, Tar::len(size), "size {size}");
            assert_eq!(bytes.len() % 512, 0);
            let mut archive = tar::Archive::new(&bytes[..]);
            let mut entries = archive.entries().unwrap();
            let mut entry = entries.next().unwrap().unwrap();
            assert_eq!(entry.header().size().unwrap(), size);
            assert_eq!(entry.header().mode().unwrap(), 0o644);
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            assert!(data.len() as u64 == size && data.iter().all(|&b| b == 0));
            drop(entry);
            assert!(entries.next().is_none(), "size {size}: one entry only");
        }
    }
}
