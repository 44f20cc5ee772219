//! `moby.filesync.v1.FileSync/DiffCopy`, the sending side: a local directory as fsutil's
//! packets (every entry's STAT in walk order, then the files the daemon asks for, then FIN).
//!
//! The daemon names the directory (`dir-name`: `context` or `dockerfile`) and filters it
//! (`followpaths`, `include-patterns`, `exclude-patterns`: the parsed `.dockerignore`); the
//! walk applies them as fsutil does. Modes are Go's `os.FileMode` bits, not `st_mode`.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use super::proto::fsutil::types::{packet::PacketType, Packet, Stat};
use crate::build_context::ignore::Matcher;
use crate::build_context::pattern::{clean, Pattern};

/// Go's `os.FileMode` type and special bits (`io/fs`), as fsutil sends them.
mod go_mode {
    pub const DIR: u32 = 1 << 31;
    pub const SYMLINK: u32 = 1 << 27;
    pub const DEVICE: u32 = 1 << 26;
    pub const NAMED_PIPE: u32 = 1 << 25;
    pub const SETUID: u32 = 1 << 23;
    pub const SETGID: u32 = 1 << 22;
    pub const CHAR_DEVICE: u32 = 1 << 21;
    pub const STICKY: u32 = 1 << 20;
}

/// The packets a DiffCopy call answers with.
pub(crate) type PacketStream =
    std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<Packet, Status>> + Send>>;

/// Data packets carry at most this much, as fsutil's sender does.
const CHUNK: usize = 32 * 1024;

/// One directory the session exposes under a name.
#[derive(Debug, Clone)]
pub(crate) struct SyncedDir {
    pub(crate) root: PathBuf,
    /// The CLI sends the context's entries as owned by 0:0 (their uid/gid are part of
    /// BuildKit's cache keys and of what `COPY` writes).
    pub(crate) reset_owner: bool,
}

/// What the daemon asked to see of a directory.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    includes: Vec<Pattern>,
    excludes: Option<Matcher>,
}

impl Filter {
    /// From the call's metadata (28.x URL-encodes a key's values when one is not ASCII and
    /// says so with `<key>-encoded`).
    pub(crate) fn from_metadata(
        root: &Path,
        metadata: &tonic::metadata::MetadataMap,
    ) -> Result<Filter, Status> {
        let values = |key: &str| -> Vec<String> {
            let encoded = metadata.get(format!("{key}-encoded")).is_some();
            metadata
                .get_all(key)
                .iter()
                .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
                .map(|v| {
                    if encoded {
                        form_urlencoded::parse(format!("v={v}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                    } else {
                        v.to_string()
                    }
                })
                .collect()
        };
        let mut include_texts = values("include-patterns");
        let follow = values("followpaths");
        if !follow.is_empty() {
            include_texts.extend(follow_paths(root, &follow));
        }
        let mut includes = Vec::new();
        // A follow path of `.` (or an include of everything) means no filtering at all.
        if !include_texts.iter().any(|p| clean(p) == ".") {
            for text in &include_texts {
                if let Some(pattern) = Pattern::parse(text).map_err(|e| {
                    Status::invalid_argument(format!("include pattern {text:?}: {e}"))
                })? {
                    includes.push(pattern);
                }
            }
        }
        let exclude_texts = values("exclude-patterns");
        let excludes = if exclude_texts.is_empty() {
            None
        } else {
            Some(
                Matcher::new(&exclude_texts)
                    .map_err(|e| Status::invalid_argument(format!("exclude patterns: {e}")))?,
            )
        };
        Ok(Filter { includes, excludes })
    }

    /// Kept by the include patterns: the entry or one of its parents matches.
    fn included(&self, path: &str) -> bool {
        if self.includes.is_empty() {
            return true;
        }
        let mut prefix = String::new();
        for part in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if self
                .includes
                .iter()
                .any(|p| !p.exclusion && p.matches(&prefix))
            {
                return true;
            }
        }
        false
    }

    fn excluded(&self, path: &str) -> bool {
        self.excludes.as_ref().is_some_and(|m| m.excludes(path))
    }

    /// Whether a directory the filters leave out must still be entered: something under
    /// it may be kept.
    fn may_keep_under(&self, dir: &str) -> bool {
        let reincluded = self
            .excludes
            .as_ref()
            .is_none_or(|m| !m.excludes(dir) || m.may_reinclude_under(dir));
        // Include patterns are relative paths: one that starts below `dir` may match.
        let included = self.includes.is_empty()
            || self.included(dir)
            || self.includes.iter().any(|p| p.could_match_under(dir));
        reincluded && included
    }
}

/// fsutil's follow paths: each path, with every symbolic link on the way also kept and
/// followed (inside the root), becomes an include pattern.
fn follow_paths(root: &Path, paths: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for path in paths {
        follow(root, &clean(path), 0, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn follow(root: &Path, path: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 40 {
        return; // a symlink loop
    }
    let mut done = String::new();
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let candidate = if done.is_empty() {
            part.to_string()
        } else {
            format!("{done}/{part}")
        };
        let full = root.join(&candidate);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => {
                out.push(candidate.clone());
                let Ok(target) = std::fs::read_link(&full) else {
                    return;
                };
                let target = target.to_string_lossy().to_string();
                let base = if target.starts_with('/') {
                    target.trim_start_matches('/').to_string()
                } else if done.is_empty() {
                    target
                } else {
                    format!("{done}/{target}")
                };
                let rest = parts[i + 1..].join("/");
                let next = if rest.is_empty() {
                    clean(&base)
                } else {
                    clean(&format!("{base}/{rest}"))
                };
                if next.starts_with("..") {
                    return;
                }
                follow(root, &next, depth + 1, out);
                return;
            }
            Ok(_) => done = candidate,
            // Wildcards and paths that do not exist are patterns as they stand.
            Err(_) => {
                out.push(path.to_string());
                return;
            }
        }
    }
    out.push(done);
}

/// One entry to send: its STAT and, for a regular file, where to read it.
struct Entry {
    stat: Stat,
    file: Option<PathBuf>,
}

/// The filtered tree in fsutil's order: depth first, a directory before its contents,
/// names in byte order; a directory left out by the filters is sent only when something
/// under it is.
fn walk(dir: &SyncedDir, filter: &Filter) -> std::io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    walk_into(dir, filter, &dir.root, "", &mut entries)?;
    Ok(entries)
}

fn walk_into(
    dir: &SyncedDir,
    filter: &Filter,
    path: &Path,
    rel: &str,
    out: &mut Vec<Entry>,
) -> std::io::Result<()> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for name in names {
        let Some(name) = name.to_str() else {
            continue; // fsutil's paths are strings; the engine could not name it either
        };
        let child_rel = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let full = path.join(name);
        let meta = std::fs::symlink_metadata(&full)?;
        let keep = filter.included(&child_rel) && !filter.excluded(&child_rel);
        if meta.is_dir() {
            if keep {
                out.push(entry(dir, &child_rel, &full, &meta)?);
                walk_into(dir, filter, &full, &child_rel, out)?;
            } else if filter.may_keep_under(&child_rel) {
                // Sent only if something under it is.
                let mark = out.len();
                walk_into(dir, filter, &full, &child_rel, out)?;
                if out.len() > mark {
                    out.insert(mark, entry(dir, &child_rel, &full, &meta)?);
                }
            }
        } else if keep {
            out.push(entry(dir, &child_rel, &full, &meta)?);
        }
    }
    Ok(())
}

fn entry(
    dir: &SyncedDir,
    rel: &str,
    full: &Path,
    meta: &std::fs::Metadata,
) -> std::io::Result<Entry> {
    let file_type = meta.file_type();
    let st_mode = meta.mode();
    let mut mode = st_mode & 0o777;
    if st_mode & 0o4000 != 0 {
        mode |= go_mode::SETUID;
    }
    if st_mode & 0o2000 != 0 {
        mode |= go_mode::SETGID;
    }
    if st_mode & 0o1000 != 0 {
        mode |= go_mode::STICKY;
    }
    let mut linkname = String::new();
    let (mut devmajor, mut devminor) = (0, 0);
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        mode |= go_mode::DIR;
    } else if file_type.is_symlink() {
        mode |= go_mode::SYMLINK;
        linkname = std::fs::read_link(full)?.to_string_lossy().into_owned();
    } else if file_type.is_fifo() {
        mode |= go_mode::NAMED_PIPE;
    } else if file_type.is_block_device() || file_type.is_char_device() {
        mode |= go_mode::DEVICE;
        if file_type.is_char_device() {
            mode |= go_mode::CHAR_DEVICE;
        }
        let rdev = meta.rdev();
        devmajor = ((rdev >> 8) & 0xfff) as i64;
        devminor = ((rdev & 0xff) | ((rdev >> 12) & 0xfff00)) as i64;
    }
    let (uid, gid) = if dir.reset_owner {
        (0, 0)
    } else {
        (meta.uid(), meta.gid())
    };
    let regular = file_type.is_file();
    Ok(Entry {
        stat: Stat {
            path: rel.to_string(),
            mode,
            uid,
            gid,
            size: if file_type.is_dir() {
                0
            } else {
                meta.size() as i64
            },
            mod_time: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            linkname,
            devmajor,
            devminor,
            xattrs: HashMap::new(),
        },
        file: regular.then(|| full.to_path_buf()),
    })
}

/// Serves one DiffCopy call: STATs, then DATA for each REQ, FIN for the daemon's FIN.
pub(crate) async fn diff_copy(
    dirs: &HashMap<String, SyncedDir>,
    request: Request<Streaming<Packet>>,
) -> Result<Response<PacketStream>, Status> {
    let name = request
        .metadata()
        .get("dir-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let dir = dirs
        .get(&name)
        .cloned()
        .ok_or_else(|| Status::not_found(format!("no access allowed to dir {name:?}")))?;
    let filter = Filter::from_metadata(&dir.root, request.metadata())?;
    let mut incoming = request.into_inner();
    let (tx, rx) = mpsc::channel::<Result<Packet, Status>>(16);
    tokio::spawn(async move {
        let walked = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || walk(&dir, &filter)).await
        };
        let entries = match walked {
            Ok(Ok(entries)) => entries,
            Ok(Err(e)) => return fail(&tx, format!("reading {}: {e}", dir.root.display())).await,
            Err(e) => return fail(&tx, format!("walking {}: {e}", dir.root.display())).await,
        };
        let mut files: Vec<Option<PathBuf>> = Vec::with_capacity(entries.len());
        for entry in entries {
            files.push(entry.file);
            let stat = Packet {
                r#type: PacketType::PacketStat as i32,
                stat: Some(entry.stat),
                ..Default::default()
            };
            if tx.send(Ok(stat)).await.is_err() {
                return;
            }
        }
        // The end of the list: a STAT without a stat.
        if tx.send(Ok(Packet::default())).await.is_err() {
            return;
        }
        loop {
            let packet = match incoming.message().await {
                Ok(Some(packet)) => packet,
                // The daemon went away: nothing to tell it.
                Ok(None) | Err(_) => return,
            };
            match PacketType::try_from(packet.r#type) {
                Ok(PacketType::PacketReq) => {
                    let path = files.get_mut(packet.id as usize).and_then(Option::take);
                    let Some(path) = path else {
                        return fail(&tx, format!("invalid file id {}", packet.id)).await;
                    };
                    if let Err(e) = send_file(&tx, packet.id, &path).await {
                        return fail(&tx, format!("reading {}: {e}", path.display())).await;
                    }
                }
                Ok(PacketType::PacketFin) => {
                    let fin = Packet {
                        r#type: PacketType::PacketFin as i32,
                        ..Default::default()
                    };
                    let _ = tx.send(Ok(fin)).await;
                    return;
                }
                Ok(PacketType::PacketErr) => {
                    let message = String::from_utf8_lossy(&packet.data).into_owned();
                    let _ = tx
                        .send(Err(Status::aborted(format!(
                            "error from receiver: {message}"
                        ))))
                        .await;
                    return;
                }
                _ => {}
            }
        }
    });
    Ok(Response::new(Box::pin(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    )))
}

/// The file's bytes in DATA packets, then an empty DATA that ends it.
async fn send_file(
    tx: &mpsc::Sender<Result<Packet, Status>>,
    id: u32,
    path: &Path,
) -> std::io::Result<()> {
    let mut file = tokio::fs::File::open(path).await?;
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let n = file.read(&mut chunk).await?;
        chunk.truncate(n);
        let last = n == 0;
        let data = Packet {
            r#type: PacketType::PacketData as i32,
            id,
            data: chunk,
            ..Default::default()
        };
        if tx.send(Ok(data)).await.is_err() || last {
            return Ok(());
        }
    }
}

/// Tells the daemon (PACKET_ERR, "error from sender") and ends the call with the error.
async fn fail(tx: &mpsc::Sender<Result<Packet, Status>>, message: String) {
    let err = Packet {
        r#type: PacketType::PacketErr as i32,
        data: message.clone().into_bytes(),
        ..Default::default()
    };
    let _ = tx.send(Ok(err)).await;
    let _ = tx.send(Err(Status::internal(message))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory removed when dropped.
    struct TempTree(PathBuf);

    impl TempTree {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempTree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tree() -> TempTree {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = TempTree(
            std::env::temp_dir().join(format!("berth-filesync-{}-{n}", std::process::id())),
        );
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(root.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(root.join(".dockerignore"), "node_modules\n").unwrap();
        std::fs::write(root.join("src/a.rs"), "a").unwrap();
        std::fs::write(root.join("src/deep/b.rs"), "bb").unwrap();
        std::fs::write(root.join("src/B.txt"), "").unwrap();
        std::fs::write(root.join("node_modules/x/y.js"), "y").unwrap();
        std::os::unix::fs::symlink("src/a.rs", root.join("link")).unwrap();
        dir
    }

    fn paths(dir: &Path, filter: Filter) -> Vec<String> {
        let synced = SyncedDir {
            root: dir.to_path_buf(),
            reset_owner: true,
        };
        walk(&synced, &filter)
            .unwrap()
            .into_iter()
            .map(|e| e.stat.path)
            .collect()
    }

    #[test]
    fn walk_order_is_fsutils_and_excludes_prune() {
        let dir = tree();
        let filter = Filter {
            includes: Vec::new(),
            excludes: Some(Matcher::new(&["node_modules".to_string()]).unwrap()),
        };
        assert_eq!(
            paths(dir.path(), filter),
            [
                ".dockerignore",
                "Dockerfile",
                "link",
                "src",
                "src/B.txt",
                "src/a.rs",
                "src/deep",
                "src/deep/b.rs"
            ]
        );
    }

    #[test]
    fn includes_keep_parents_and_follow_links() {
        let dir = tree();
        let includes = follow_paths(dir.path(), &["link".to_string(), "src/deep/b.rs".into()]);
        assert_eq!(includes, ["link", "src/a.rs", "src/deep/b.rs"]);
        let filter = Filter {
            includes: includes
                .iter()
                .filter_map(|p| Pattern::parse(p).unwrap())
                .collect(),
            excludes: None,
        };
        assert_eq!(
            paths(dir.path(), filter),
            ["link", "src", "src/a.rs", "src/deep", "src/deep/b.rs"]
        );
    }

    #[test]
    fn modes_are_go_file_modes_and_owners_reset() {
        let dir = tree();
        let synced = SyncedDir {
            root: dir.path().to_path_buf(),
            reset_owner: true,
        };
        let entries = walk(&synced, &Filter::default()).unwrap();
        let stat = |p: &str| &entries.iter().find(|e| e.stat.path == p).unwrap().stat;
        assert_eq!(stat("src").mode & go_mode::DIR, go_mode::DIR);
        assert_eq!(stat("src").size, 0);
        assert_eq!(stat("link").mode & go_mode::SYMLINK, go_mode::SYMLINK);
        assert_eq!(stat("link").linkname, "src/a.rs");
        assert_eq!(
            stat("src/deep/b.rs").mode & 0o170000,
            0,
            "no st_mode type bits"
        );
        assert_eq!(stat("src/deep/b.rs").size, 2);
        assert_eq!((stat("src/a.rs").uid, stat("src/a.rs").gid), (0, 0));
        assert!(entries
            .iter()
            .all(|e| e.file.is_some() == (e.stat.mode & 0xfff8_0000 == 0)));
    }
}
