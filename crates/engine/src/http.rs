//! Finding where an HTTP/1.1 response ends, without keeping it.
//!
//! The engine only needs each response's status, whether the connection stays open, and where the
//! response ends, so it never stores a body. Bytes arrive in whatever pieces the socket gives; the
//! parser is fed each piece as it comes. Header parsing is `httparse`'s; the parser owns only the
//! framing rules of RFC 9112 §6.3 (no body, Content-Length, chunked, or read until close). Header
//! bytes are copied only when a head is split across reads, so an idle connection holds no buffer.

use thiserror::Error;

/// Heads larger than this are refused rather than buffered without bound.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// The response is not valid HTTP/1.1.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ProtocolError(pub String);

fn bad(msg: impl Into<String>) -> ProtocolError {
    ProtocolError(msg.into())
}

/// The result of feeding bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The response is not complete yet.
    More,
    /// The response ended after `used` bytes of the last piece.
    Done {
        status: u16,
        keep_alive: bool,
        used: usize,
    },
}

#[derive(Debug)]
enum State {
    Head,
    Body(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    /// In the size line; `digits` seen so far, `ext` once past `;`.
    Size {
        size: u64,
        digits: u8,
        ext: bool,
    },
    /// Saw the `\r` ending a size line.
    SizeLf {
        size: u64,
    },
    Data(u64),
    DataCr,
    DataLf,
    /// In the trailer section; `empty` while the current line has no bytes yet.
    Trailer {
        empty: bool,
    },
    TrailerLf {
        empty: bool,
    },
}

/// Parses one response on a connection; make a new one for each request.
#[derive(Debug)]
pub struct ResponseParser {
    state: State,
    head: Vec<u8>,
    head_request: bool,
    status: u16,
    keep_alive: bool,
}

impl ResponseParser {
    /// `head_request`: the request was HEAD, so the response has no body whatever it says.
    pub fn new(head_request: bool) -> ResponseParser {
        ResponseParser {
            state: State::Head,
            head: Vec::new(),
            head_request,
            status: 0,
            keep_alive: true,
        }
    }

    /// Feeds the next piece of the byte stream.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<Progress, ProtocolError> {
        let total = data.len();
        loop {
            let used_so_far = total - data.len();
            match &mut self.state {
                State::Head => match self.parse_head(data)? {
                    None => return Ok(Progress::More),
                    Some(n) => {
                        data = &data[n..];
                        if let Some(done) = self.done_if_no_body(total - data.len()) {
                            return Ok(done);
                        }
                    }
                },
                State::Body(remaining) => {
                    let take = (*remaining).min(data.len() as u64);
                    *remaining -= take;
                    data = &data[take as usize..];
                    if *remaining == 0 {
                        return Ok(self.done(total - data.len()));
                    }
                    return Ok(Progress::More);
                }
                State::Chunked(chunk) => {
                    let (n, finished) = scan_chunked(chunk, data)?;
                    if finished {
                        return Ok(self.done(used_so_far + n));
                    }
                    return Ok(Progress::More);
                }
                State::UntilClose => return Ok(Progress::More),
            }
        }
    }

    /// The peer closed the connection. Returns the status if that ended the response.
    pub fn eof(&self) -> Option<u16> {
        matches!(self.state, State::UntilClose).then_some(self.status)
    }

    /// Whether any byte of the response has arrived.
    pub fn started(&self) -> bool {
        !matches!(self.state, State::Head) || !self.head.is_empty()
    }

    fn done(&mut self, used: usize) -> Progress {
        self.state = State::Head;
        Progress::Done {
            status: self.status,
            keep_alive: self.keep_alive,
            used,
        }
    }

    fn done_if_no_body(&mut self, used: usize) -> Option<Progress> {
        match self.state {
            State::Head => None, // an interim 1xx response was skipped; parse the next head
            State::Body(0) => Some(self.done(used)),
            _ => None,
        }
    }

    /// Parses a head from `data` (after any bytes buffered before). Returns the bytes of `data`
    /// used, or `None` when the head is still incomplete.
    fn parse_head(&mut self, data: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let buffered = self.head.len();
        let parsed = if buffered == 0 {
            response.parse(data)
        } else {
            self.head.extend_from_slice(data);
            response.parse(&self.head)
        };
        let len = match parsed.map_err(|e| bad(format!("malformed response head: {e}")))? {
            httparse::Status::Complete(len) => len,
            httparse::Status::Partial => {
                if buffered == 0 {
                    self.head.extend_from_slice(data);
                }
                if self.head.len() > MAX_HEAD {
                    return Err(bad("response head larger than 64 KiB"));
                }
                return Ok(None);
            }
        };
        let framing = Framing::of(&response, self.head_request)?;
        self.head.clear();
        self.status = framing.status;
        self.keep_alive = framing.keep_alive;
        self.state = framing.state;
        Ok(Some(len - buffered))
    }
}

struct Framing {
    status: u16,
    keep_alive: bool,
    state: State,
}

impl Framing {
    fn of(response: &httparse::Response, head_request: bool) -> Result<Framing, ProtocolError> {
        let status = response.code.unwrap_or(0);
        let http10 = response.version == Some(0);
        let mut keep_alive = !http10;
        let mut chunked = false;
        let mut length: Option<u64> = None;
        for h in response.headers.iter() {
            if h.name.eq_ignore_ascii_case("connection") {
                let v = String::from_utf8_lossy(h.value);
                for token in v.split(',').map(str::trim) {
                    if token.eq_ignore_ascii_case("close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case("keep-alive") {
                        keep_alive = true;
                    }
                }
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                let v = String::from_utf8_lossy(h.value);
                chunked = v
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            } else if h.name.eq_ignore_ascii_case("content-length") {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| bad("invalid Content-Length"))?;
                if length.is_some_and(|m| m != n) {
                    return Err(bad("conflicting Content-Length headers"));
                }
                length = Some(n);
            }
        }
        let state = if (100..200).contains(&status) && status != 101 {
            State::Head
        } else if head_request || status == 101 || status == 204 || status == 304 {
            State::Body(0)
        } else if chunked {
            State::Chunked(Chunk::Size {
                size: 0,
                digits: 0,
                ext: false,
            })
        } else if let Some(n) = length {
            State::Body(n)
        } else {
            keep_alive = false;
            State::UntilClose
        };
        if status == 101 {
            keep_alive = false;
        }
        Ok(Framing {
            status,
            keep_alive,
            state,
        })
    }
}

/// Advances the chunked-body scanner over `data`. Returns the bytes used and whether the body
/// (with its trailers) ended.
fn scan_chunked(chunk: &mut Chunk, data: &[u8]) -> Result<(usize, bool), ProtocolError> {
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        match chunk {
            Chunk::Data(remaining) => {
                let take = (*remaining).min((data.len() - i) as u64);
                *remaining -= take;
                i += take as usize;
                if *remaining == 0 {
                    *chunk = Chunk::DataCr;
                }
                continue;
            }
            Chunk::Size { size, digits, ext } => {
                if b == b'\r' {
                    if *digits == 0 {
                        return Err(bad("chunk size missing"));
                    }
                    *chunk = Chunk::SizeLf { size: *size };
                } else if *ext {
                    // chunk extensions are skipped
                } else if b == b';' || b == b' ' || b == b'\t' {
                    *ext = true;
                } else {
                    let d = (b as char)
                        .to_digit(16)
                        .ok_or_else(|| bad("invalid chunk size"))?;
                    if *digits >= 15 {
                        return Err(bad("chunk size too large"));
                    }
                    *size = *size * 16 + u64::from(d);
                    *digits += 1;
                }
            }
            Chunk::SizeLf { size } => {
                if b != b'\n' {
                    return Err(bad("chunk size line not ended by CRLF"));
                }
                *chunk = if *size == 0 {
                    Chunk::Trailer { empty: true }
                } else {
                    Chunk::Data(*size)
                };
            }
            Chunk::DataCr => {
                if b != b'\r' {
                    return Err(bad("chunk data not followed by CRLF"));
                }
                *chunk = Chunk::DataLf;
            }
            Chunk::DataLf => {
                if b != b'\n' {
                    return Err(bad("chunk data not followed by CRLF"));
                }
                *chunk = Chunk::Size {
                    size: 0,
                    digits: 0,
                    ext: false,
                };
            }
            Chunk::Trailer { empty } => {
                if b == b'\r' {
                    *chunk = Chunk::TrailerLf { empty: *empty };
                } else {
                    *empty = false;
                }
            }
            Chunk::TrailerLf { empty } => {
                if b != b'\n' {
                    return Err(bad("trailer line not ended by CRLF"));
                }
                if *empty {
                    return Ok((i + 1, true));
                }
                *chunk = Chunk::Trailer { empty: true };
            }
        }
        i += 1;
    }
    Ok((i, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(status: u16, keep_alive: bool, used: usize) -> Progress {
        Progress::Done {
            status,
            keep_alive,
            used,
        }
    }

    /// Feeds `bytes` in pieces of `step` and returns the final progress and total bytes used.
    fn feed_in_pieces(bytes: &[u8], step: usize, head: bool) -> (Progress, usize) {
        let mut p = ResponseParser::new(head);
        let mut offset = 0;
        for piece in bytes.chunks(step) {
            match p.feed(piece).unwrap() {
                Progress::More => offset += piece.len(),
                Progress::Done {
                    status,
                    keep_alive,
                    used,
                } => return (done(status, keep_alive, offset + used), offset + used),
            }
        }
        (Progress::More, offset)
    }

    #[test]
    fn content_length_in_any_pieces() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nServer: x\r\n\r\nHello, World!";
        for step in 1..=r.len() {
            let (p, used) = feed_in_pieces(r, step, false);
            assert!(
                matches!(
                    p,
                    Progress::Done {
                        status: 200,
                        keep_alive: true,
                        ..
                    }
                ),
                "{step}"
            );
            assert_eq!(used, r.len(), "step {step}");
        }
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nHello\r\n8\r\n, World!\r\n0\r\nX-T: 1\r\n\r\n";
        for step in 1..=r.len() {
            let (p, used) = feed_in_pieces(r, step, false);
            assert!(
                matches!(p, Progress::Done { status: 200, .. }),
                "step {step}"
            );
            assert_eq!(used, r.len(), "step {step}");
        }
    }

    #[test]
    fn no_body_cases() {
        let r = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(feed_in_pieces(r, 100, false).0, done(204, true, r.len()));
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        assert_eq!(feed_in_pieces(r, 100, true).0, done(200, true, r.len()));
        let r = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(feed_in_pieces(r, 100, false).0, done(201, true, r.len()));
    }

    #[test]
    fn connection_close_and_http10() {
        let r = b"HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(feed_in_pieces(r, 7, false).0, done(500, false, r.len()));
        let r = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(feed_in_pieces(r, 7, false).0, done(200, false, r.len()));
        let r = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(feed_in_pieces(r, 7, false).0, done(200, true, r.len()));
    }

    #[test]
    fn body_until_close() {
        let mut p = ResponseParser::new(false);
        assert_eq!(p.eof(), None);
        assert_eq!(
            p.feed(b"HTTP/1.1 200 OK\r\n\r\nabc").unwrap(),
            Progress::More
        );
        assert_eq!(p.feed(b"def").unwrap(), Progress::More);
        assert_eq!(p.eof(), Some(200));
    }

    #[test]
    fn reports_where_the_response_ends() {
        let mut p = ResponseParser::new(false);
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
        assert_eq!(p.feed(r).unwrap(), done(200, true, r.len() - 5));
    }

    #[test]
    fn malformed_responses_are_protocol_errors() {
        for r in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX",
        ] {
            assert!(ResponseParser::new(false).feed(r).is_err(), "{r:?}");
        }
        let mut p = ResponseParser::new(false);
        let huge = vec![b'a'; MAX_HEAD + 1];
        assert_eq!(p.feed(b"HTTP/1.1 200 OK\r\nX: ").unwrap(), Progress::More);
        assert!(p.feed(&huge).is_err());
    }
}
