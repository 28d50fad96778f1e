//! One POST on a connection of its own, read as the server answers it.
//!
//! The `data` and `ml` checks send bodies a server must refuse, among them one over its size
//! limit that a server may answer from its `Content-Length` without reading: the body is written
//! from another thread while the answer is read, so an answer that comes before the body is
//! sent, or a connection closed behind it, still yields the answer. Each request has its own
//! connection (`Connection: close`), so a server that closes the connection of a bad body does
//! not fail the request after it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// An answer: its status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Answer {
    /// The media type of its `Content-Type`, lower case, without parameters.
    pub fn media_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|t| t.split(';').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

/// Sends `POST path` with `body` of `content_type` to the server at `addr` and reads its answer,
/// within `timeout` in all.
pub fn post(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Answer, String> {
    let began = Instant::now();
    let what = format!("POST {path}");
    let stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("{what}: cannot connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.set_read_timeout(Some(Duration::from_millis(200))))
        .map_err(|e| format!("{what}: {e}"))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut writer = stream.try_clone().map_err(|e| format!("{what}: {e}"))?;
    std::thread::scope(|scope| {
        // A server may answer and close before taking the whole body: the write then fails,
        // which is not the check's concern; the answer is.
        scope.spawn(move || {
            let _ = writer
                .write_all(head.as_bytes())
                .and_then(|()| writer.write_all(body));
        });
        let answer = read_answer(&stream, &what, began, timeout);
        // Unblocks the writer if the server stopped reading.
        let _ = stream.shutdown(Shutdown::Both);
        answer
    })
}

/// Reads one answer from `stream`: up to the end of its body by `Content-Length`, chunks, or
/// the connection's end.
fn read_answer(
    mut stream: &TcpStream,
    what: &str,
    began: Instant,
    timeout: Duration,
) -> Result<Answer, String> {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let mut closed = false;
    loop {
        if let Some(answer) = parse(&buf, closed).map_err(|e| format!("{what}: {e}"))? {
            return Ok(answer);
        }
        if closed {
            return Err(if buf.is_empty() {
                format!("{what}: the server closed the connection without an answer")
            } else {
                format!("{what}: the answer was cut short ({} bytes)", buf.len())
            });
        }
        if began.elapsed() > timeout {
            return Err(format!(
                "{what}: no complete answer within {} s",
                timeout.as_secs()
            ));
        }
        match stream.read(&mut chunk) {
            Ok(0) => closed = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            // A reset after the answer arrived leaves what was read; before it, nothing.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed = true,
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
}

/// The answer in `buf` if it is complete; `closed`: no more bytes will come.
fn parse(buf: &[u8], closed: bool) -> Result<Option<Answer>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("the answer is not HTTP/1.1: {e}")),
    };
    let status = response.code.unwrap_or(0);
    let headers: BTreeMap<String, String> = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    let rest = &buf[head_len..];
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        match dechunk(rest)? {
            Some(body) => body,
            None => return Ok(None),
        }
    } else if let Some(length) = headers.get("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("Content-Length '{length}' is not a number"))?;
        if rest.len() < length {
            return Ok(None);
        }
        rest[..length].to_vec()
    } else if closed {
        rest.to_vec()
    } else {
        return Ok(None);
    };
    Ok(Some(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }))
}

/// A chunked body, once its last chunk has arrived.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&rest[..end]);
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| format!("a chunk size '{size}' is not hexadecimal"))?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Ok(Some(body));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_by_length_chunks_or_close() {
        let by_length = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\
                          Content-Length: 13\r\n\r\n{\"error\":\"x\"}";
        let a = parse(by_length, false).unwrap().unwrap();
        assert_eq!((a.status, a.body.as_str()), (400, "{\"error\":\"x\"}"));
        assert_eq!(a.media_type(), "application/json");
        assert!(parse(&by_length[..by_length.len() - 1], false)
            .unwrap()
            .is_none());

        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse(chunked, false).unwrap().unwrap().body, "abcde");
        assert!(parse(&chunked[..30], false).unwrap().is_none());

        let until_close = b"HTTP/1.1 200 OK\r\n\r\nall of it";
        assert!(parse(until_close, false).unwrap().is_none());
        assert_eq!(parse(until_close, true).unwrap().unwrap().body, "all of it");
        assert!(parse(b"nonsense\r\n\r\n", false).is_err());
    }

    #[test]
    fn an_answer_sent_before_the_body_is_read_is_the_answer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = [0u8; 256];
            let _ = s.read(&mut head).unwrap();
            s.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 22\r\n\r\n{\"error\":\"too large\"}\n",
            )
            .unwrap();
            // A lingering close, as servers do: the rest of the body is read and dropped.
            s.shutdown(Shutdown::Write).unwrap();
            let mut sink = [0u8; 64 * 1024];
            while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        });
        let big = vec![b'x'; 16 * 1024 * 1024];
        let a = post(
            addr,
            "/aggregate",
            "text/csv",
            &big,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(a.status, 400);
        assert!(a.body.contains("too large"));
        server.join().unwrap();
    }
}
