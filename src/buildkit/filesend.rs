//! `moby.filesync.v1.FileSend/DiffCopy`: a build's result written on this side
//! (`--output type=local|tar`). The daemon is the caller. For `local` it sends fsutil's
//! packets although the proto declares `BytesMessage` (`CopyToCaller` runs fsutil's sender
//! on the stream), so the call is decoded as `Packet`s and berth is fsutil's receiver; for
//! `tar` the messages are what they say, chunks of one tar stream.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tonic::codegen::Service;
use tonic::{Request, Response, Status, Streaming};

use super::proto::fsutil::types::{packet::PacketType, Packet};
use super::proto::moby::filesync::v1::BytesMessage;
use super::Output;

type Boxed<T> = Pin<Box<dyn futures_core::Stream<Item = Result<T, Status>> + Send>>;

/// Serves one FileSend call for the build's output.
pub(crate) async fn serve(
    output: Option<Output>,
    request: http::Request<hyper::body::Incoming>,
) -> http::Response<tonic::body::Body> {
    match output {
        Some(Output::Local(dir)) => {
            let mut grpc =
                tonic::server::Grpc::new(tonic_prost::ProstCodec::<Packet, Packet>::default());
            grpc.streaming(Call(move |r| receive_local(dir.clone(), r)), request)
                .await
        }
        Some(Output::Tar(file)) => {
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::<
                BytesMessage,
                BytesMessage,
            >::default());
            grpc.streaming(Call(move |r| receive_tar(file.clone(), r)), request)
                .await
        }
        _ => Status::unimplemented("this build has no output for the client").into_http(),
    }
}

/// A streaming gRPC method from a function (what tonic's generated servers wrap).
struct Call<F>(F);

impl<F, Fut, In, S> Service<Request<Streaming<In>>> for Call<F>
where
    F: FnMut(Request<Streaming<In>>) -> Fut,
    Fut: Future<Output = Result<Response<S>, Status>>,
{
    type Response = Response<S>;
    type Error = Status;
    type Future = Fut;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Streaming<In>>) -> Fut {
        (self.0)(request)
    }
}

/// The tar stream, written to the file as it comes.
async fn receive_tar(
    path: PathBuf,
    request: Request<Streaming<BytesMessage>>,
) -> Result<Response<Boxed<BytesMessage>>, Status> {
    let mut incoming = request.into_inner();
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| Status::internal(format!("creating {}: {e}", path.display())))?;
    while let Some(message) = incoming.message().await? {
        file.write_all(&message.data)
            .await
            .map_err(|e| Status::internal(format!("writing {}: {e}", path.display())))?;
    }
    file.flush()
        .await
        .map_err(|e| Status::internal(format!("writing {}: {e}", path.display())))?;
    let done: Boxed<BytesMessage> = Box::pin(futures_util::stream::empty());
    Ok(Response::new(done))
}

/// fsutil's receiving side: each STAT makes its entry (directories, links, empty files to
/// fill), each regular file is asked for (REQ) and written from its DATA packets; when the
/// list has ended and every file is whole, FIN, and the daemon's FIN ends the call.
async fn receive_local(
    dest: PathBuf,
    request: Request<Streaming<Packet>>,
) -> Result<Response<Boxed<Packet>>, Status> {
    let mut incoming = request.into_inner();
    tokio::fs::create_dir_all(&dest)
        .await
        .map_err(|e| Status::internal(format!("creating {}: {e}", dest.display())))?;
    let (tx, rx) = mpsc::channel::<Result<Packet, Status>>(16);
    tokio::spawn(async move {
        if let Err(status) = receive_entries(&dest, &mut incoming, &tx).await {
            let err = Packet {
                r#type: PacketType::PacketErr as i32,
                data: status.message().as_bytes().to_vec(),
                ..Default::default()
            };
            let _ = tx.send(Ok(err)).await;
            let _ = tx.send(Err(status)).await;
        }
    });
    let stream: Boxed<Packet> = Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(Response::new(stream))
}

async fn receive_entries(
    dest: &Path,
    incoming: &mut Streaming<Packet>,
    tx: &mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), Status> {
    let mut next_id: u32 = 0;
    let mut open: HashMap<u32, (tokio::fs::File, PathBuf, u32)> = HashMap::new();
    let mut listed = false;
    let mut fin_sent = false;
    let send = |packet: Packet| async move {
        tx.send(Ok(packet))
            .await
            .map_err(|_| Status::cancelled("the daemon went away"))
    };
    while let Some(packet) = incoming.message().await? {
        match PacketType::try_from(packet.r#type) {
            Ok(PacketType::PacketStat) => {
                let Some(stat) = packet.stat else {
                    listed = true;
                    if open.is_empty() && !fin_sent {
                        fin_sent = true;
                        send(fin()).await?;
                    }
                    continue;
                };
                let id = next_id;
                next_id += 1;
                let path = inside(dest, &stat.path)?;
                let mode = stat.mode;
                let io = |e: std::io::Error| {
                    Status::internal(format!("writing {}: {e}", path.display()))
                };
                if mode & DIR != 0 {
                    tokio::fs::create_dir_all(&path).await.map_err(io)?;
                    set_permissions(&path, mode).await.map_err(io)?;
                } else if mode & SYMLINK != 0 {
                    let _ = tokio::fs::remove_file(&path).await;
                    tokio::fs::symlink(&stat.linkname, &path)
                        .await
                        .map_err(io)?;
                } else if mode & TYPE == 0 && !stat.linkname.is_empty() {
                    let target = inside(dest, &stat.linkname)?;
                    let _ = tokio::fs::remove_file(&path).await;
                    tokio::fs::hard_link(&target, &path).await.map_err(io)?;
                } else if mode & TYPE == 0 {
                    let file = tokio::fs::File::create(&path).await.map_err(io)?;
                    open.insert(id, (file, path.clone(), mode));
                    send(Packet {
                        r#type: PacketType::PacketReq as i32,
                        id,
                        ..Default::default()
                    })
                    .await?;
                }
                // Devices, pipes and sockets are not made on the client: a build's output
                // is files.
            }
            Ok(PacketType::PacketData) => {
                let Some((file, path, mode)) = open.get_mut(&packet.id) else {
                    return Err(Status::invalid_argument(format!(
                        "data for a file not asked for ({})",
                        packet.id
                    )));
                };
                let io = |e: std::io::Error| {
                    Status::internal(format!("writing {}: {e}", path.display()))
                };
                if packet.data.is_empty() {
                    file.flush().await.map_err(io)?;
                    set_permissions(path, *mode).await.map_err(io)?;
                    open.remove(&packet.id);
                    if listed && open.is_empty() && !fin_sent {
                        fin_sent = true;
                        send(fin()).await?;
                    }
                } else {
                    file.write_all(&packet.data).await.map_err(io)?;
                }
            }
            // The daemon's answer to our FIN: the transfer is over.
            Ok(PacketType::PacketFin) => return Ok(()),
            Ok(PacketType::PacketErr) => {
                return Err(Status::aborted(format!(
                    "error from sender: {}",
                    String::from_utf8_lossy(&packet.data)
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

fn fin() -> Packet {
    Packet {
        r#type: PacketType::PacketFin as i32,
        ..Default::default()
    }
}

/// Go's `os.FileMode` bits fsutil sends (see `filesync`).
const DIR: u32 = 1 << 31;
const SYMLINK: u32 = 1 << 27;
const TYPE: u32 = DIR | SYMLINK | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19);

async fn set_permissions(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777)).await
}

/// `dest/rel`, refused when `rel` would leave `dest` (absolute, or with `..`).
fn inside(dest: &Path, rel: &str) -> Result<PathBuf, Status> {
    let rel = Path::new(rel);
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Status::invalid_argument(format!(
            "{} is not a path inside the output directory",
            rel.display()
        )));
    }
    Ok(dest.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_output() {
        let dest = Path::new("/out");
        assert_eq!(inside(dest, "a/b").unwrap(), Path::new("/out/a/b"));
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "./a"] {
            assert!(inside(dest, bad).is_err(), "{bad}");
        }
    }
}
