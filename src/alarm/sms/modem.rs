//! GSM modem driver (3GPP TS 27.005 in PDU mode) over any byte stream (a serial port, a
//! pty in tests): `AT`, `ATE0`, `AT+CMGF=0`, optionally `AT+CSCA`, then per PDU
//! `AT+CMGS=<len>`, wait for the `> ` prompt, the hex PDU and Ctrl-Z, and `+CMGS: <mr>`
//! with `OK` — or `ERROR` / `+CMS ERROR: <n>`. The line parser is pure ([`parse_line`]).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::protocol::sms_pdu::{SubmitOptions, SubmitPdu, encode_submit};

/// One line (or the prompt) from the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Ok,
    Error,
    /// `+CMS ERROR: n` (TS 27.005 §3.2.5), e.g. 310 SIM not inserted, 500 unknown error.
    CmsError(u16),
    /// `+CME ERROR: n`.
    CmeError(u16),
    /// `+CMGS: <mr>`: the message reference of a sent PDU.
    Cmgs(u8),
    /// The `> ` prompt for PDU input.
    Prompt,
    /// Anything else (echo, unsolicited codes).
    Other(String),
}

/// Classifies one line of modem output (without its line ending).
pub fn parse_line(line: &str) -> Line {
    let t = line.trim();
    if t == "OK" {
        return Line::Ok;
    }
    if t == "ERROR" {
        return Line::Error;
    }
    if t == ">" || line.starts_with("> ") {
        return Line::Prompt;
    }
    let num = |rest: &str| rest.trim().parse::<u16>().ok();
    if let Some(rest) = t.strip_prefix("+CMS ERROR:")
        && let Some(n) = num(rest)
    {
        return Line::CmsError(n);
    }
    if let Some(rest) = t.strip_prefix("+CME ERROR:")
        && let Some(n) = num(rest)
    {
        return Line::CmeError(n);
    }
    if let Some(rest) = t.strip_prefix("+CMGS:")
        && let Some(n) = num(rest).and_then(|n| u8::try_from(n).ok())
    {
        return Line::Cmgs(n);
    }
    Line::Other(t.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModemError {
    #[error("modem I/O: {0}")]
    Io(String),
    #[error("no answer from the modem to {0} within {1} ms")]
    Timeout(String, u128),
    #[error("the modem answered ERROR to {0}")]
    Error(String),
    #[error("the modem refused the message: +CMS ERROR: {0} ({1})")]
    Cms(u16, &'static str),
    #[error("the modem answered +CME ERROR: {0} to {1}")]
    Cme(u16, String),
    #[error("cannot encode the message: {0}")]
    Encode(String),
}

/// Meaning of the common +CMS ERROR codes (TS 27.005 §3.2.5).
pub fn cms_meaning(code: u16) -> &'static str {
    match code {
        300 => "ME failure",
        301 => "SMS service of ME reserved",
        302 => "operation not allowed",
        304 => "invalid PDU mode parameter",
        310 => "SIM not inserted",
        311 => "SIM PIN required",
        313 => "SIM failure",
        330 => "SMSC address unknown",
        331 => "no network service",
        332 => "network timeout",
        500 => "unknown error",
        _ => "see 3GPP TS 27.005 §3.2.5",
    }
}

/// A modem on a byte stream.
pub struct Modem<S> {
    io: S,
    buf: Vec<u8>,
    timeout: Duration,
    smsc: Option<String>,
    next_ref: u8,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Modem<S> {
    pub fn new(io: S, timeout: Duration, smsc: Option<String>) -> Modem<S> {
        Modem {
            io,
            buf: Vec::new(),
            timeout,
            smsc,
            next_ref: 1,
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ModemError> {
        self.io
            .write_all(bytes)
            .await
            .map_err(|e| ModemError::Io(e.to_string()))?;
        self.io
            .flush()
            .await
            .map_err(|e| ModemError::Io(e.to_string()))
    }

    /// The next line or prompt, waiting at most the timeout.
    async fn next_line(&mut self, what: &str) -> Result<Line, ModemError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            // Skip blank line endings.
            while self.buf.first().is_some_and(|b| *b == b'\r' || *b == b'\n') {
                self.buf.remove(0);
            }
            if self.buf.starts_with(b">") {
                self.buf.remove(0);
                if self.buf.first() == Some(&b' ') {
                    self.buf.remove(0);
                }
                return Ok(Line::Prompt);
            }
            if let Some(end) = self.buf.iter().position(|b| *b == b'\r' || *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..end).collect();
                return Ok(parse_line(&String::from_utf8_lossy(&line)));
            }
            let mut chunk = [0u8; 256];
            let n = tokio::time::timeout_at(deadline, self.io.read(&mut chunk))
                .await
                .map_err(|_| ModemError::Timeout(what.to_string(), self.timeout.as_millis()))?
                .map_err(|e| ModemError::Io(e.to_string()))?;
            if n == 0 {
                return Err(ModemError::Io("the modem port closed".into()));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and waits for its final result; returns the lines before it.
    pub async fn command(&mut self, cmd: &str) -> Result<Vec<String>, ModemError> {
        self.buf.clear();
        self.write(format!("{cmd}\r").as_bytes()).await?;
        let mut lines = Vec::new();
        loop {
            match self.next_line(cmd).await? {
                Line::Ok => return Ok(lines),
                Line::Error => return Err(ModemError::Error(cmd.to_string())),
                Line::CmsError(n) => return Err(ModemError::Cms(n, cms_meaning(n))),
                Line::CmeError(n) => return Err(ModemError::Cme(n, cmd.to_string())),
                Line::Other(l) if l == cmd => {} // echo
                Line::Other(l) => lines.push(l),
                Line::Cmgs(n) => lines.push(format!("+CMGS: {n}")),
                Line::Prompt => {}
            }
        }
    }

    /// Wakes the modem and sets PDU mode (and the SMS centre when configured).
    pub async fn init(&mut self) -> Result<(), ModemError> {
        self.command("AT").await?;
        self.command("ATE0").await?;
        self.command("AT+CMGF=0").await?;
        if let Some(smsc) = self.smsc.clone() {
            self.command(&format!("AT+CSCA=\"{smsc}\"")).await?;
        }
        Ok(())
    }

    /// Sends one PDU; returns the network's message reference.
    pub async fn send_pdu(&mut self, pdu: &SubmitPdu) -> Result<u8, ModemError> {
        let cmd = format!("AT+CMGS={}", pdu.cmgs_len());
        self.buf.clear();
        self.write(format!("{cmd}\r").as_bytes()).await?;
        loop {
            match self.next_line(&cmd).await? {
                Line::Prompt => break,
                Line::Error => return Err(ModemError::Error(cmd)),
                Line::CmsError(n) => return Err(ModemError::Cms(n, cms_meaning(n))),
                Line::CmeError(n) => return Err(ModemError::Cme(n, cmd)),
                _ => {}
            }
        }
        let mut body = pdu.hex().into_bytes();
        body.push(0x1A);
        self.write(&body).await?;
        let mut mr = None;
        loop {
            match self.next_line("the PDU").await? {
                Line::Cmgs(n) => mr = Some(n),
                Line::Ok => return mr.ok_or(ModemError::Error("no +CMGS before OK".into())),
                Line::Error => return Err(ModemError::Error("the PDU".into())),
                Line::CmsError(n) => return Err(ModemError::Cms(n, cms_meaning(n))),
                Line::CmeError(n) => return Err(ModemError::Cme(n, "the PDU".into())),
                _ => {}
            }
        }
    }

    /// Sends `text` to `to`, as concatenated parts when long; returns the parts sent.
    pub async fn send_text(&mut self, to: &str, text: &str) -> Result<u32, ModemError> {
        let reference = self.next_ref;
        self.next_ref = self.next_ref.wrapping_add(1).max(1);
        let opts = SubmitOptions {
            smsc: None,
            concat_ref: reference,
            ..SubmitOptions::default()
        };
        let pdus = encode_submit(to, text, &opts).map_err(|e| ModemError::Encode(e.to_string()))?;
        for p in &pdus {
            self.send_pdu(p).await?;
        }
        Ok(pdus.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_are_classified() {
        assert_eq!(parse_line("OK"), Line::Ok);
        assert_eq!(parse_line(" ERROR "), Line::Error);
        assert_eq!(parse_line("+CMS ERROR: 500"), Line::CmsError(500));
        assert_eq!(parse_line("+CME ERROR: 10"), Line::CmeError(10));
        assert_eq!(parse_line("+CMGS: 42"), Line::Cmgs(42));
        assert_eq!(parse_line("> "), Line::Prompt);
        assert_eq!(parse_line("+CMGS: 999"), Line::Other("+CMGS: 999".into()));
        assert_eq!(parse_line("RING"), Line::Other("RING".into()));
    }

    proptest! {
        #[test]
        fn garbage_lines_never_panic(s in ".{0,64}") {
            let _ = parse_line(&s);
        }
    }
}
