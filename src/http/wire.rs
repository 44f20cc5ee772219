//! HTTP/1.1 on the wire: writing a request head, reading a response head, and how the
//! response body is delimited.

use std::io;

use bytes::BytesMut;

use crate::operation::Method;

/// A response head longer than this is refused rather than buffered without end.
const MAX_HEAD: usize = 64 * 1024;

/// The headers of a response, in the order the engine sent them; names compare without
/// regard to case. (Kept as one string and the places of each name and value in it: one
/// allocation per response, not two per header.)
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    text: String,
    /// Name start, name end (= value start), value end.
    spans: Vec<(usize, usize, usize)>,
}

impl Headers {
    fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let middle = self.text.len();
        self.text.push_str(value);
        self.spans.push((start, middle, self.text.len()));
    }

    /// The first value of a header (`headers.get("api-version")`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every value of a header, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header as `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .iter()
            .map(|&(start, middle, end)| (&self.text[start..middle], &self.text[middle..end]))
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// How the body after a response head ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    Length(u64),
    Chunked,
    /// The body ends when the engine closes the connection (a hijacked stream not upgraded).
    UntilClose,
    /// 101: the connection now belongs to the caller.
    Upgrade,
}

#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) framing: Framing,
    /// The connection can carry another request once the body is read.
    pub(crate) keep_alive: bool,
}

pub(crate) fn invalid_data(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Parses the response head at the start of `buf` and removes it from `buf`; `None` while
/// more bytes are needed.
pub(crate) fn parse_head(buf: &mut BytesMut, method: Method) -> io::Result<Option<Head>> {
    let mut storage = [httparse::EMPTY_HEADER; 100];
    let mut response = httparse::Response::new(&mut storage);
    let length = match response.parse(buf) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(invalid_data("the response head is longer than 64 KiB"))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid_data(format!("malformed response head: {e}"))),
    };
    let status = response.code.unwrap_or_default();
    let mut close = response.version == Some(0);
    let mut content_length = None;
    let mut chunked = false;
    let mut other_coding = false;
    let mut headers = Headers {
        text: String::with_capacity(length),
        spans: Vec::with_capacity(response.headers.len()),
    };
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value)
            .map_err(|_| invalid_data(format!("header {} is not UTF-8", header.name)))?
            .trim();
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            let n: u64 = value
                .parse()
                .map_err(|_| invalid_data(format!("bad Content-Length {value:?}")))?;
            if content_length.is_some_and(|m| m != n) {
                return Err(invalid_data("two different Content-Length headers"));
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Only the last coding decides how the body ends.
            let last = value.rsplit(',').next().unwrap_or("").trim();
            chunked = last.eq_ignore_ascii_case("chunked");
            other_coding = !chunked;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    close = false;
                }
            }
        }
        headers.push(name, value);
    }
    let framing = if status == 101 {
        Framing::Upgrade
    } else if method == Method::Head || status < 200 || status == 204 || status == 304 {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let (Some(n), false) = (content_length, other_coding) {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    let _ = buf.split_to(length);
    Ok(Some(Head {
        status,
        headers,
        framing,
        keep_alive: !close && !matches!(framing, Framing::UntilClose | Framing::Upgrade),
    }))
}

/// A request head being written: the request line, then headers, then the framing of the
/// body, in one buffer sent with one write.
pub(crate) struct RequestHead {
    pub(crate) method: Method,
    pub(crate) bytes: Vec<u8>,
}

impl RequestHead {
    /// `target` is the path and query, already encoded.
    pub(crate) fn new(method: Method, target: &str, host: &str) -> Result<RequestHead, String> {
        if target.is_empty()
            || !target.starts_with('/')
            || target.bytes().any(|b| b <= b' ' || b == 0x7f)
        {
            return Err(format!(
                "the request path {target:?} must start with / and hold no spaces or control characters"
            ));
        }
        let mut bytes = Vec::with_capacity(256 + target.len());
        bytes.extend_from_slice(method.as_str().as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(target.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        bytes.extend_from_slice(host.as_bytes());
        bytes.extend_from_slice(b"\r\nUser-Agent: berth/");
        bytes.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
        bytes.extend_from_slice(b"\r\n");
        Ok(RequestHead { method, bytes })
    }

    /// A header; a name or value that would break the head (CR, LF, a colon in the name)
    /// is refused.
    pub(crate) fn header(&mut self, name: &str, value: &str) -> Result<(), String> {
        let bad_name = name.is_empty()
            || name
                .bytes()
                .any(|b| b <= b' ' || b == b':' || b == 0x7f || b >= 0x80);
        if bad_name {
            return Err(format!("invalid header name {name:?}"));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(format!("the value of header {name} holds a line break"));
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.extend_from_slice(b": ");
        self.bytes.extend_from_slice(value.as_bytes());
        self.bytes.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// Ends the head: `Some(n)` is a body of n bytes, `None` a chunked one.
    pub(crate) fn finish(mut self, body_length: Option<u64>) -> RequestHead {
        match body_length {
            // A bodiless GET says nothing; POST and PUT say 0, as Go's client does.
            Some(0) if matches!(self.method, Method::Get | Method::Head | Method::Delete) => {}
            Some(n) => {
                self.bytes.extend_from_slice(b"Content-Length: ");
                self.bytes.extend_from_slice(n.to_string().as_bytes());
                self.bytes.extend_from_slice(b"\r\n");
            }
            None => self
                .bytes
                .extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        }
        self.bytes.extend_from_slice(b"\r\n");
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str, method: Method) -> Head {
        let mut buf = BytesMut::from(text.as_bytes());
        let head = parse_head(&mut buf, method).unwrap().expect("complete");
        assert_eq!(&buf[..], b"rest", "the head is consumed, the body stays");
        head
    }

    #[test]
    fn framing_follows_the_headers() {
        use Framing::*;
        let cases = [
            ("200 OK\r\nContent-Length: 2", Method::Get, Length(2), true),
            (
                "200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 9",
                Method::Get,
                Chunked,
                true,
            ),
            (
                "200 OK\r\nConnection: close\r\nContent-Length: 2",
                Method::Get,
                Length(2),
                false,
            ),
            (
                "200 OK\r\nContent-Type: application/vnd.docker.raw-stream",
                Method::Post,
                UntilClose,
                false,
            ),
            ("101 UPGRADED\r\nUpgrade: tcp", Method::Post, Upgrade, false),
            ("200 OK\r\nContent-Length: 2", Method::Head, Empty, true),
            (
                "304 Not Modified\r\nApi-Version: 1.41",
                Method::Post,
                Empty,
                true,
            ),
        ];
        for (text, method, framing, keep_alive) in cases {
            let h = head(&format!("HTTP/1.1 {text}\r\n\r\nrest"), method);
            assert_eq!((h.framing, h.keep_alive), (framing, keep_alive), "{text}");
        }
        let h = head(
            "HTTP/1.1 304 Not Modified\r\nApi-Version: 1.41\r\n\r\nrest",
            Method::Get,
        );
        assert_eq!(h.headers.get("api-VERSION"), Some("1.41"));
        let h = head(
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nrest",
            Method::Get,
        );
        assert!(!h.keep_alive, "HTTP/1.0 closes unless told otherwise");
    }

    #[test]
    fn partial_and_malformed_heads() {
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Le"[..]);
        assert!(parse_head(&mut buf, Method::Get).unwrap().is_none());
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"[..]);
        let e = parse_head(&mut buf, Method::Get).unwrap_err();
        assert!(e.to_string().contains("Content-Length"), "{e}");
        let mut buf = BytesMut::from(&b"SSH-2.0-OpenSSH\r\n\r\n"[..]);
        let e = parse_head(&mut buf, Method::Get).unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
    }

    #[test]
    fn request_heads_refuse_what_would_break_them() {
        let mut head = RequestHead::new(Method::Post, "/v1.41/build?t=a%20b", "localhost").unwrap();
        head.header("X-Registry-Auth", "eyJ9").unwrap();
        assert!(head.header("X-Bad", "a\r\nInjected: yes").is_err());
        assert!(head.header("Bad Name", "x").is_err());
        let text = String::from_utf8(head.finish(None).bytes).unwrap();
        assert!(text.starts_with("POST /v1.41/build?t=a%20b HTTP/1.1\r\nHost: localhost\r\n"));
        assert!(text.ends_with("X-Registry-Auth: eyJ9\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assert!(RequestHead::new(Method::Get, "/a b", "localhost").is_err());
        let get = RequestHead::new(Method::Get, "/_ping", "localhost")
            .unwrap()
            .finish(Some(0));
        assert!(!String::from_utf8(get.bytes)
            .unwrap()
            .contains("Content-Length"));
    }
}
