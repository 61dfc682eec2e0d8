//! The wire under the operator API client: HTTP/1.1 over the daemon's Unix socket or TCP.
//!
//! Hand-written on std `UnixStream`/`TcpStream` + serde_json on purpose: the console makes
//! a handful of small, sequential request/response calls to a local daemon, so one
//! `Connection: close` request per call is enough, and it keeps tokio/hyper out of the
//! console (ureq cannot speak over a Unix socket). Bodies are read with Content-Length or
//! chunked transfer coding, as axum sends either.

use crate::api::{ApiErr, Transport};
use crate::types::ErrorBody;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Where the daemon listens.
#[derive(Debug, Clone)]
pub enum Endpoint {
    Socket(PathBuf),
    /// `host:port` of a plain-HTTP base URL such as `http://127.0.0.1:8080`.
    Tcp(String),
}

impl Endpoint {
    /// Parses `--api http://host:port` (plain HTTP only: the API is meant for the LAN/host).
    pub fn from_url(url: &str) -> Result<Endpoint, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("--api {url}: only http:// URLs are supported"))?;
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains('/') {
            return Err(format!(
                "--api {url}: give the base URL, e.g. http://127.0.0.1:8080"
            ));
        }
        Ok(Endpoint::Tcp(host.to_string()))
    }
}

pub struct Client {
    pub endpoint: Endpoint,
    pub timeout: Duration,
}

impl Client {
    pub fn new(endpoint: Endpoint) -> Client {
        Client {
            endpoint,
            timeout: Duration::from_secs(15),
        }
    }

    fn exchange(&self, raw: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        match &self.endpoint {
            Endpoint::Socket(p) => {
                let mut s = std::os::unix::net::UnixStream::connect(p)?;
                s.set_read_timeout(Some(self.timeout))?;
                s.write_all(raw)?;
                s.read_to_end(&mut out)?;
            }
            Endpoint::Tcp(addr) => {
                let mut s = std::net::TcpStream::connect(addr)?;
                s.set_read_timeout(Some(self.timeout))?;
                s.write_all(raw)?;
                s.read_to_end(&mut out)?;
            }
        }
        Ok(out)
    }
}

impl Transport for Client {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, ApiErr> {
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: voltvend\r\nConnection: close\r\nAccept: application/json\r\nUser-Agent: voltvend-tui\r\n"
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if body.is_some() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                payload.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(&payload);
        let where_ = match &self.endpoint {
            Endpoint::Socket(p) => p.display().to_string(),
            Endpoint::Tcp(a) => a.clone(),
        };
        let raw = self
            .exchange(req.as_bytes())
            .map_err(|e| ApiErr::io(format!("cannot reach the daemon at {where_}: {e}")))?;
        let (status, body) = parse_response(&raw).map_err(ApiErr::io)?;
        decode(status, &body)
    }
}

/// Turns a status and body into the JSON value or an `ApiErr` from `{code, message}`.
pub fn decode(status: u16, body: &[u8]) -> Result<Value, ApiErr> {
    let v: Value = if body.iter().all(|b| b.is_ascii_whitespace()) {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(|e| ApiErr {
            status,
            code: "bad_json".into(),
            message: format!("the daemon answered {status} with a body that is not JSON: {e}"),
            details: Vec::new(),
        })?
    };
    if (200..300).contains(&status) {
        return Ok(v);
    }
    match serde_json::from_value::<ErrorBody>(v) {
        Ok(b) => Err(ApiErr {
            status,
            code: b.code,
            message: b.message,
            details: b.problems.unwrap_or_default(),
        }),
        Err(_) => Err(ApiErr {
            status,
            code: "http".into(),
            message: format!("the daemon answered HTTP {status}"),
            details: Vec::new(),
        }),
    }
}

/// Splits a raw HTTP/1.1 response into status and (de-chunked) body.
pub fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = find(raw, b"\r\n\r\n").ok_or("the daemon closed the connection mid-header")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "response header is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut chunked = false;
    let mut length = None;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse::<usize>().ok();
            }
        }
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        rest.get(..n)
            .ok_or("the daemon closed the connection mid-body")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let nl = find(rest, b"\r\n").ok_or("truncated chunk size")?;
        let size_txt = std::str::from_utf8(&rest[..nl]).map_err(|_| "bad chunk size")?;
        let size_txt = size_txt.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_txt, 16)
            .map_err(|_| format!("bad chunk size {size_txt:?}"))?;
        rest = &rest[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        rest = rest.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_and_chunked_bodies_parse() {
        let r = b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n{\"a\":1}";
        assert_eq!(parse_response(r).unwrap(), (200, b"{\"a\":1}".to_vec()));
        let c = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(c).unwrap(), (200, b"{\"a\":1}".to_vec()));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}").is_err());
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn error_bodies_keep_code_and_message() {
        let e = decode(
            403,
            br#"{"code":"must_change_password","message":"change it"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (403, "must_change_password", "change it")
        );
        assert_eq!(decode(204, b"").unwrap(), Value::Null);
    }

    #[test]
    fn api_url_must_be_plain_http_base() {
        assert!(
            matches!(Endpoint::from_url("http://127.0.0.1:8080/"), Ok(Endpoint::Tcp(h)) if h == "127.0.0.1:8080")
        );
        assert!(Endpoint::from_url("https://x").is_err());
        assert!(Endpoint::from_url("http://x/api").is_err());
    }
}
