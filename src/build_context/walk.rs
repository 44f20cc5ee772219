//! The tar producer: a thread walks the context in Docker's order (each directory's names
//! sorted bytewise, depth first, as Go's `filepath.WalkDir`), writes each kept entry with the
//! `tar` crate, and hands the archive on in 64 KiB chunks through a bounded channel. When
//! the channel is full the thread waits: the tree is never held in memory, whatever its size.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::ignore::{Matcher, ParentMatches};

/// Bytes per chunk handed to the body.
pub(crate) const CHUNK: usize = 64 * 1024;
/// Chunks waiting in the channel at most: with the one being filled and the one the HTTP
/// layer is writing, at most `(CHANNEL + 2) * CHUNK` bytes of archive exist at a time.
pub(crate) const CHANNEL: usize = 4;

/// What the producer sends. The stream ends only on `Done`: a thread that stopped without
/// it (a panic) must not look like a complete archive.
pub(crate) enum Message {
    Data(Bytes),
    Done,
    Failed(io::Error),
}

/// What the walk needs: the context's (resolved) root and its `.dockerignore`.
pub(crate) struct Plan {
    pub(crate) root: PathBuf,
    pub(crate) matcher: Matcher,
}

/// Starts the producer thread for `plan`.
pub(crate) fn spawn(plan: Plan) -> io::Result<mpsc::Receiver<Message>> {
    let (tx, rx) = mpsc::channel(CHANNEL);
    std::thread::Builder::new()
        .name("berth-build-context".into())
        .spawn(move || produce(plan, tx))?;
    Ok(rx)
}

fn produce(plan: Plan, tx: mpsc::Sender<Message>) {
    let mut builder = tar::Builder::new(ChannelWriter {
        tx: tx.clone(),
        buffer: Vec::with_capacity(CHUNK),
        closed: false,
    });
    let mut walker = Walker {
        matcher: &plan.matcher,
        hard_links: HashMap::new(),
    };
    let outcome = walker
        .walk(&mut builder, &plan.root, Path::new(""), None)
        .and_then(|()| builder.finish())
        .and_then(|()| builder.get_mut().flush());
    match outcome {
        Ok(()) => {
            let _ = tx.blocking_send(Message::Done);
        }
        Err(e) => {
            // The builder's drop would write the archive's end: nothing more may go out.
            builder.get_mut().closed = true;
            let message = format!("build context {}: {e}", plan.root.display());
            let _ = tx.blocking_send(Message::Failed(io::Error::new(e.kind(), message)));
        }
    }
}

/// `Write` into the channel, a chunk at a time; waits while the channel is full.
struct ChannelWriter {
    tx: mpsc::Sender<Message>,
    buffer: Vec<u8>,
    closed: bool,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Message::Data(Bytes::from(chunk)))
            .map_err(|_| {
                self.closed = true;
                io::Error::new(io::ErrorKind::BrokenPipe, "the body was dropped")
            })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the body was closed",
            ));
        }
        let n = data.len().min(CHUNK - self.buffer.len());
        self.buffer.extend_from_slice(&data[..n]);
        if self.buffer.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed || self.buffer.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

/// A file's bytes, exactly as many as its header says: a file that grows or shrinks while
/// it is sent would corrupt the archive (each entry's size is written before its data), so
/// either is an error, as in Go's tar writer.
struct Exact {
    file: File,
    left: u64,
    size: u64,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more would mean the file grew.
            return match self.file.read(&mut [0u8])? {
                0 => Ok(0),
                _ => Err(self.changed("grew")),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        match self.file.read(&mut buf[..want])? {
            0 => Err(self.changed("shrank")),
            n => {
                self.left -= n as u64;
                Ok(n)
            }
        }
    }
}

impl Exact {
    fn changed(&self, how: &str) -> io::Error {
        io::Error::other(format!(
            "the file {how} while it was being sent ({} bytes expected, {} read)",
            self.size,
            self.size - self.left
        ))
    }
}

struct Walker<'a> {
    matcher: &'a Matcher,
    /// Files with more than one link, by (device, inode): the first one's name in the
    /// archive, which later ones link to (as Docker's archiver does).
    hard_links: HashMap<(u64, u64), PathBuf>,
}

impl Walker<'_> {
    /// Writes the kept entries under `dir` (`rel` inside the context), in order.
    fn walk<W: Write>(
        &mut self,
        out: &mut tar::Builder<W>,
        dir: &Path,
        rel: &Path,
        parent: Option<&ParentMatches>,
    ) -> io::Result<()> {
        let shown = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let at = |what: &'static str| move |e: io::Error| with_path(e, what, shown);
        let mut names = fs::read_dir(dir)
            .map_err(at("listing"))?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<Vec<OsString>>>()
            .map_err(at("listing"))?;
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let rel = rel.join(&name);
            let meta = fs::symlink_metadata(&path).map_err(|e| with_path(e, "reading", &rel))?;
            // Patterns see `/`-separated text; a name that is not UTF-8 is matched lossily.
            let text = slash_path(&rel);
            let (excluded, matches) = self.matcher.excludes_under(&text, parent);
            if excluded {
                // An excluded directory is still entered when an exception may keep
                // something under it; the directory itself is not sent.
                if meta.is_dir() && self.matcher.may_reinclude_under(&text) {
                    self.walk(out, &path, &rel, Some(&matches))?;
                }
                continue;
            }
            self.append(out, &path, &rel, &meta)
                .map_err(|e| with_path(e, "sending", &rel))?;
            if meta.is_dir() {
                self.walk(out, &path, &rel, Some(&matches))?;
            }
        }
        Ok(())
    }

    /// One entry: its type, permission bits, mtime (seconds), owner 0:0, and its data.
    fn append<W: Write>(
        &mut self,
        out: &mut tar::Builder<W>,
        path: &Path,
        rel: &Path,
        meta: &Metadata,
    ) -> io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_mode(mode(meta));
        header.set_uid(0);
        header.set_gid(0);
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        header.set_mtime(mtime.map_or(0, |d| d.as_secs()));
        header.set_size(0);
        let kind = meta.file_type();
        if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            return out.append_data(&mut header, rel, io::empty());
        }
        if kind.is_symlink() {
            // Stored as a link, never followed: its target is sent as it was written.
            header.set_entry_type(tar::EntryType::Symlink);
            return append_link(out, &mut header, rel, &fs::read_link(path)?);
        }
        if kind.is_file() {
            if let Some(key) = hard_link_key(meta) {
                if let Some(first) = self.hard_links.get(&key) {
                    header.set_entry_type(tar::EntryType::Link);
                    return append_link(out, &mut header, rel, first);
                }
                self.hard_links.insert(key, rel.to_path_buf());
            }
            let file = File::open(path)?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(meta.len());
            let data = Exact {
                file,
                left: meta.len(),
                size: meta.len(),
            };
            return out.append_data(&mut header, rel, data);
        }
        special(out, &mut header, rel, meta)
    }
}

/// A link entry (symbolic or hard). A short target is stored byte for byte (the tar
/// crate's own setter would normalize it); a long one goes in a GNU long-link record.
fn append_link<W: Write>(
    out: &mut tar::Builder<W>,
    header: &mut tar::Header,
    rel: &Path,
    target: &Path,
) -> io::Result<()> {
    let bytes = target.as_os_str().as_encoded_bytes();
    if bytes.len() < 100 {
        header.set_link_name_literal(bytes)?;
        out.append_data(header, rel, io::empty())
    } else {
        out.append_link(header, rel, target)
    }
}

/// FIFOs and devices are sent as such (Docker's archiver does); sockets are skipped, as
/// there.
#[cfg(unix)]
fn special<W: Write>(
    out: &mut tar::Builder<W>,
    header: &mut tar::Header,
    rel: &Path,
    meta: &Metadata,
) -> io::Result<()> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let kind = meta.file_type();
    if kind.is_socket() {
        return Ok(());
    }
    if kind.is_fifo() {
        header.set_entry_type(tar::EntryType::Fifo);
    } else if kind.is_char_device() || kind.is_block_device() {
        header.set_entry_type(if kind.is_char_device() {
            tar::EntryType::Char
        } else {
            tar::EntryType::Block
        });
        let (major, minor) = device_numbers(meta.rdev())?;
        header.set_device_major(major)?;
        header.set_device_minor(minor)?;
    } else {
        return Err(io::Error::other("a file of an unknown type"));
    }
    out.append_data(header, rel, io::empty())
}

#[cfg(not(unix))]
fn special<W: Write>(
    _: &mut tar::Builder<W>,
    _: &mut tar::Header,
    _: &Path,
    _: &Metadata,
) -> io::Result<()> {
    Err(io::Error::other(
        "a file that is neither a directory, a regular file nor a link",
    ))
}

/// Linux's `dev_t` layout (glibc's `major`/`minor`).
#[cfg(target_os = "linux")]
fn device_numbers(rdev: u64) -> io::Result<(u32, u32)> {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    Ok((major as u32, minor as u32))
}

#[cfg(all(unix, not(target_os = "linux")))]
fn device_numbers(_: u64) -> io::Result<(u32, u32)> {
    Err(io::Error::other(
        "device files are only supported in a build context on Linux",
    ))
}

/// Permission bits with setuid, setgid and sticky, as Go's `FileInfoHeader` keeps them.
#[cfg(unix)]
fn mode(meta: &Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    meta.mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(meta: &Metadata) -> u32 {
    match (meta.is_dir(), meta.permissions().readonly()) {
        (true, _) => 0o755,
        (false, true) => 0o444,
        (false, false) => 0o644,
    }
}

#[cfg(unix)]
fn hard_link_key(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn hard_link_key(_: &Metadata) -> Option<(u64, u64)> {
    None
}

/// `rel` as the patterns see it: names joined by `/`.
fn slash_path(rel: &Path) -> String {
    let names: Vec<_> = rel.iter().map(|n| n.to_string_lossy()).collect();
    names.join("/")
}

/// The error, naming the entry it happened on (the broken-pipe of a dropped body too:
/// nobody reads that one).
fn with_path(e: io::Error, what: &str, rel: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", slash_path(rel)))
}
