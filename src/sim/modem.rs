//! A simulated GSM modem on a pty, for the demo and tests: it answers the AT dialogue of a
//! real modem in PDU mode (echo until `ATE0`, `> ` after `AT+CMGS=<n>`, `+CMGS: <mr>` and
//! `OK` after the PDU and Ctrl-Z), decodes each PDU with our codec, reassembles
//! concatenated parts and keeps the delivered messages (number, text); with a folder it
//! also writes each one there as a text file. Faults: queued `+CMS ERROR` answers, no SIM, no answer at all.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::protocol::sms_pdu::{self as pdu, Sms};

/// A message as the network delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub to: String,
    pub text: String,
    pub parts: usize,
}

#[derive(Debug, Default)]
struct State {
    delivered: Vec<Delivered>,
    /// Parts of concatenated messages still waiting for the rest: (number, ref) → parts.
    partial: Vec<Sms>,
    /// Answers `+CMS ERROR: n` to the next PDUs, one code each.
    fail_next: Vec<u16>,
    no_sim: bool,
    /// Swallows everything and answers nothing (modem hung or unpowered).
    silent: bool,
    pdus: usize,
    next_mr: u8,
}

/// A running simulated modem.
#[derive(Clone)]
pub struct SimModem {
    pub path: PathBuf,
    state: Arc<Mutex<State>>,
}

impl SimModem {
    /// Starts a modem on a new pty; `out_dir` receives one `sms-N.txt` per message.
    pub fn spawn(out_dir: Option<PathBuf>) -> std::io::Result<SimModem> {
        let (master, slave) =
            tokio_serial::SerialStream::pair().map_err(|e| std::io::Error::other(e.to_string()))?;
        let path = tokio_serial::SerialPort::name(&slave)
            .ok_or_else(|| std::io::Error::other("the pty has no slave path"))?;
        let state = Arc::new(Mutex::new(State {
            next_mr: 1,
            ..State::default()
        }));
        let s = state.clone();
        tokio::spawn(async move {
            let _slave = slave; // keeps the pty alive across client reopen
            if let Err(e) = serve(master, s, out_dir).await {
                tracing::warn!(error = %e, "simulated modem stopped");
            }
        });
        Ok(SimModem {
            path: PathBuf::from(path),
            state,
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Messages delivered so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.with(|s| s.delivered.clone())
    }

    /// PDUs accepted so far (a concatenated message counts each part).
    pub fn pdus(&self) -> usize {
        self.with(|s| s.pdus)
    }

    /// The next PDU is answered `+CMS ERROR: code` (queue several for several).
    pub fn fail_next(&self, code: u16) {
        self.with(|s| s.fail_next.push(code));
    }

    /// Without a SIM every send is answered `+CMS ERROR: 310`.
    pub fn set_no_sim(&self, no_sim: bool) {
        self.with(|s| s.no_sim = no_sim);
    }

    /// A hung modem: every byte is swallowed and nothing is answered until turned off.
    pub fn set_silent(&self, silent: bool) {
        self.with(|s| s.silent = silent);
    }
}

async fn serve(
    mut port: tokio_serial::SerialStream,
    state: Arc<Mutex<State>>,
    out_dir: Option<PathBuf>,
) -> std::io::Result<()> {
    let mut echo = true;
    let mut line: Vec<u8> = Vec::new();
    // Some(len) while reading a PDU after the prompt.
    let mut pdu_len: Option<usize> = None;
    let mut buf = [0u8; 512];
    loop {
        let n = port.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        if state.lock().unwrap_or_else(|p| p.into_inner()).silent {
            line.clear();
            pdu_len = None;
            continue;
        }
        for &b in &buf[..n] {
            if let Some(len) = pdu_len {
                match b {
                    0x1A => {
                        pdu_len = None;
                        let hex = String::from_utf8_lossy(&line).trim().to_string();
                        line.clear();
                        let reply = take_pdu(&state, &hex, len, out_dir.as_ref());
                        port.write_all(reply.as_bytes()).await?;
                    }
                    0x1B => {
                        pdu_len = None;
                        line.clear();
                        port.write_all(b"\r\nOK\r\n").await?;
                    }
                    _ => line.push(b),
                }
                continue;
            }
            if echo {
                port.write_all(&[b]).await?;
            }
            if b == b'\r' {
                let cmd = String::from_utf8_lossy(&line).trim().to_uppercase();
                line.clear();
                if cmd.is_empty() {
                    continue;
                }
                let reply =
                    if cmd == "AT" || cmd.starts_with("AT+CMGF=0") || cmd.starts_with("AT+CSCA") {
                        "\r\nOK\r\n".to_string()
                    } else if cmd == "ATE0" {
                        echo = false;
                        "\r\nOK\r\n".to_string()
                    } else if let Some(n) = cmd.strip_prefix("AT+CMGS=") {
                        match n.trim().parse::<usize>() {
                            Ok(len) if len > 0 && len <= 176 => {
                                pdu_len = Some(len);
                                "\r\n> ".to_string()
                            }
                            _ => "\r\n+CMS ERROR: 304\r\n".to_string(),
                        }
                    } else {
                        "\r\nERROR\r\n".to_string()
                    };
                port.write_all(reply.as_bytes()).await?;
            } else if b != b'\n' {
                line.push(b);
            }
        }
    }
}

fn take_pdu(state: &Mutex<State>, hex: &str, len: usize, out_dir: Option<&PathBuf>) -> String {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if s.no_sim {
        return "\r\n+CMS ERROR: 310\r\n".into();
    }
    if !s.fail_next.is_empty() {
        let code = s.fail_next.remove(0);
        return format!("\r\n+CMS ERROR: {code}\r\n");
    }
    let sms = match pdu::decode_hex(hex) {
        Ok(m) => m,
        Err(_) => return "\r\n+CMS ERROR: 304\r\n".into(),
    };
    // The AT+CMGS length counts the octets after the SMSC field.
    let smsc_octets = hex
        .get(..2)
        .and_then(|h| usize::from_str_radix(h, 16).ok())
        .unwrap_or(0);
    if hex.len() / 2 != len + 1 + smsc_octets {
        return "\r\n+CMS ERROR: 304\r\n".into();
    }
    s.pdus += 1;
    let mr = s.next_mr;
    s.next_mr = s.next_mr.wrapping_add(1);
    match sms.concat {
        None => deliver(&mut s, sms.number.clone(), sms.text.clone(), 1, out_dir),
        Some(c) => {
            let number = sms.number.clone();
            s.partial.push(sms);
            let mut parts: Vec<Sms> = s
                .partial
                .iter()
                .filter(|p| {
                    p.number == number && p.concat.is_some_and(|x| x.reference == c.reference)
                })
                .cloned()
                .collect();
            if parts.len() == usize::from(c.total) {
                parts.sort_by_key(|p| p.concat.map(|x| x.seq));
                s.partial.retain(|p| {
                    !(p.number == number && p.concat.is_some_and(|x| x.reference == c.reference))
                });
                if let Ok(text) = pdu::reassemble(&parts) {
                    deliver(&mut s, number, text, parts.len(), out_dir);
                }
            }
        }
    }
    format!("\r\n+CMGS: {mr}\r\n\r\nOK\r\n")
}

fn deliver(s: &mut State, to: String, text: String, parts: usize, out_dir: Option<&PathBuf>) {
    if let Some(dir) = out_dir {
        let n = s.delivered.len() + 1;
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(
            dir.join(format!("sms-{n:04}.txt")),
            format!("to: {to}\n\n{text}\n"),
        );
    }
    s.delivered.push(Delivered { to, text, parts });
}
