//! A request body read from a `std::io::Read`, for archive uploads and build contexts.

use std::io::Read;

use bytes::Bytes;

use crate::Body;

/// How much one read asks for: the size of the chunks sent.
const CHUNK: usize = 64 << 10;

impl Body {
    /// A body read from any `std::io::Read` (a file, a pipe, a `tar::Builder`'s output)
    /// as it is sent, in chunks of up to 64 KiB (feature `blocking`). The reads run on the runtime's blocking
    /// threads (`spawn_blocking`), never on the thread that drives the connections, so a
    /// slow reader stalls only its own request. A read error fails the call with
    /// [`Error::RequestBody`](crate::Error::RequestBody). Works with the async client too,
    /// on a tokio runtime.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # fn demo(docker: berth::blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use berth::docker::v1_55::containers::PutContainerArchive;
    /// let archive = std::fs::File::open("files.tar")?;
    /// docker.invoke(PutContainerArchive {
    ///     id: "conny".into(),
    ///     path: "/srv".into(),
    ///     body: berth::Body::from_std_reader(archive),
    ///     ..Default::default()
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn from_std_reader<R: Read + Send + 'static>(reader: R) -> Body {
        let chunks = futures_util::stream::try_unfold(reader, |mut reader| async move {
            let (reader, read) = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0; CHUNK];
                let read = loop {
                    match reader.read(&mut buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                (
                    reader,
                    read.map(|n| {
                        buf.truncate(n);
                        Bytes::from(buf)
                    }),
                )
            })
            .await
            // The reader panicked (or the runtime is shutting down).
            .map_err(std::io::Error::other)?;
            let chunk = read?;
            Ok::<_, std::io::Error>((!chunk.is_empty()).then_some((chunk, reader)))
        });
        Body::wrap_stream(chunks)
    }
}
