//! `FrameStream` unit tests: pieces, bounded buffers, the end after an error.

use super::*;

fn frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![stream, 0, 0, 0];
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn items(parts: Vec<crate::Result<Bytes>>) -> ByteStream {
    ByteStream::from_stream(futures_util::stream::iter(parts), "ContainerLogs")
}

fn chunks(parts: Vec<Vec<u8>>) -> ByteStream {
    items(parts.into_iter().map(|p| Ok(Bytes::from(p))).collect())
}

#[tokio::test]
async fn frames_split_across_chunks_decode() {
    let mut all = frame(1, b"hello\n");
    all.extend(frame(2, b"oops\n"));
    all.extend(frame(1, b""));
    // Cut everywhere, one byte per chunk.
    let parts = all.iter().map(|b| vec![*b]).collect();
    let frames: Vec<Frame> = FrameStream::new(chunks(parts))
        .map(|f| f.unwrap())
        .collect()
        .await;
    assert_eq!(frames.len(), 3);
    assert_eq!(
        frames[0],
        Frame {
            stream: StreamKind::Stdout,
            data: Bytes::from_static(b"hello\n")
        }
    );
    assert_eq!(frames[1].stream, StreamKind::Stderr);
    assert!(frames[2].data.is_empty());
}

#[tokio::test]
async fn a_long_frame_comes_in_pieces_of_the_same_size_whatever_the_chunks() {
    let payload: Vec<u8> = (0..MAX_PIECE * 2 + 100).map(|i| i as u8).collect();
    let mut all = frame(2, &payload);
    all.extend(frame(1, b"next"));
    for cut in [7, 1000, MAX_PIECE + 3, all.len()] {
        let parts = all.chunks(cut).map(<[u8]>::to_vec).collect();
        let frames: Vec<Frame> = FrameStream::new(chunks(parts))
            .map(|f| f.unwrap())
            .collect()
            .await;
        let sizes: Vec<usize> = frames.iter().map(|f| f.data.len()).collect();
        assert_eq!(sizes, [MAX_PIECE, MAX_PIECE, 100, 4], "chunks of {cut}");
        let joined: Vec<u8> = frames[..3].iter().flat_map(|f| f.data.to_vec()).collect();
        assert_eq!(joined, payload);
        assert!(frames[..3].iter().all(|f| f.stream == StreamKind::Stderr));
    }
}

#[tokio::test]
async fn a_huge_header_allocates_nothing_from_its_length() {
    // A header claiming 4 GiB - 1, 1 MB of payload in uneven chunks, then the end.
    let mut first = vec![1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
    first.extend(vec![b'x'; 1000]);
    let mut parts = vec![first];
    parts.extend((0..999).map(|_| vec![b'y'; 1001]));
    let mut frames = FrameStream::new(chunks(parts));
    let (mut handed_out, mut largest_piece_buffer) = (0, 0);
    let error = loop {
        let item = frames.next().await.expect("an error before the end");
        largest_piece_buffer = largest_piece_buffer.max(frames.piece.capacity());
        match item {
            Ok(frame) => {
                assert_eq!(frame.data.len(), MAX_PIECE);
                handed_out += frame.data.len();
            }
            Err(error) => break error,
        }
    };
    assert!(largest_piece_buffer <= MAX_PIECE, "{largest_piece_buffer}");
    let received = 1000 + 999 * 1001;
    assert_eq!(handed_out, received / MAX_PIECE * MAX_PIECE);
    match &error {
        Error::Decode {
            operation,
            message,
            body,
            ..
        } => {
            assert_eq!(operation, "ContainerLogs");
            assert!(message.contains("ended inside a Stdout frame"), "{message}");
            assert_eq!(body.len(), received - handed_out);
        }
        other => panic!("expected a truncated-frame error, got {other:?}"),
    }
    assert!(frames.next().await.is_none());
}

#[tokio::test]
async fn a_truncated_header_is_an_error() {
    let items: Vec<_> = FrameStream::new(chunks(vec![frame(1, b"hi"), vec![2, 0, 0]]))
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(matches!(&items[1], Err(Error::Decode { message, body, .. })
            if message.contains("inside a frame header") && body[..] == [2, 0, 0]));
}

#[tokio::test]
async fn tty_bytes_are_not_frames_and_say_so() {
    let items: Vec<_> = FrameStream::new(chunks(vec![b"hello world\n".to_vec()]))
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("ContainerLogs: "), "{text}");
    assert!(text.contains("probably has a TTY"), "{text}");
    assert!(!text.contains("engine"), "{text}");
    assert_eq!(error.body().unwrap(), &Bytes::from_static(b"hello world\n"));
}

#[tokio::test]
async fn a_transport_error_is_the_last_item() {
    let mut tail = frame(1, b"hello");
    let head = tail.drain(..10).collect::<Vec<u8>>();
    let parts = vec![
        Ok(Bytes::from(frame(1, b"first"))),
        Ok(Bytes::from(head)),
        Err(Error::Io(std::io::Error::other("connection reset"))),
        Ok(Bytes::from(tail)),
    ];
    let items: Vec<_> = FrameStream::new(items(parts)).collect().await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(items[1], Err(Error::Io(_))));
}

#[tokio::test]
async fn tty_output_is_raw() {
    let m = Multiplexed::new(chunks(vec![b"\x01raw".to_vec()]));
    let frames: Vec<Frame> = m.output(true).map(|f| f.unwrap()).collect().await;
    assert_eq!(frames[0].data, Bytes::from_static(b"\x01raw"));
}

#[tokio::test]
async fn tty_output_ends_after_an_error() {
    let parts = vec![
        Err(Error::Io(std::io::Error::other("reset"))),
        Ok(Bytes::from_static(b"more")),
    ];
    let items: Vec<_> = Multiplexed::new(items(parts)).output(true).collect().await;
    assert_eq!(items.len(), 1, "{items:?}");
}
