//! Modbus transports: RTU on a local serial port, Modbus TCP, and RTU over TCP, all through
//! `tokio-modbus` clients. This layer adds what a bus master must do around the library:
//! per-request timeouts computed from the wire time, the 3.5-character silence between
//! frames, retries, purging stale input, reconnecting after a broken stream, and errors that
//! name the address, the link and why.

use std::time::{Duration, Instant};

use tokio_modbus::client::{Client, Context};
use tokio_modbus::prelude::SlaveContext;
use tokio_modbus::{ExceptionCode, Request, Response, Slave};

use super::error::{Attempt, FieldError};
use super::link::Via;
use super::stream::{self, Line};
use super::tap::{SharedTap, Tap, lock};
use super::wire::LineTiming;
use crate::protocol::floor::{Exchange, WireProtocol};

pub use super::stream::{BusStats, RetryPolicy};

/// Modbus RTU ADU sizes, used for the wire time of every exchange (`protocol::rtu::len`).
pub use crate::protocol::rtu::len as rtu_len;

enum Op<'a> {
    Read { start: u16, count: u16 },
    Write { start: u16, words: &'a [u16] },
}

impl Op<'_> {
    fn register(&self) -> u16 {
        match self {
            Op::Read { start, .. } | Op::Write { start, .. } => *start,
        }
    }
    fn lens(&self) -> (usize, usize) {
        match self {
            Op::Read { count, .. } => (rtu_len::READ_REQUEST, rtu_len::read_reply(*count)),
            Op::Write { words, .. } => (rtu_len::write_request(words.len()), rtu_len::WRITE_REPLY),
        }
    }
}

pub(super) struct Conn {
    ctx: Context,
    tap: SharedTap,
}

/// One Modbus bus behind one link. Not `Sync`: exactly one task owns it, so requests on a
/// bus are strictly sequential.
pub struct ModbusBus {
    /// The bus task reads and resets the counters here.
    pub(super) line: Line<Conn>,
}

impl ModbusBus {
    pub fn new(via: Via, timing: LineTiming, policy: RetryPolicy) -> ModbusBus {
        ModbusBus {
            line: Line::new(via, WireProtocol::ModbusRtu, timing, policy),
        }
    }

    /// The reply timeout of a read of `count` registers (what error messages quote).
    pub fn read_timeout(&self, count: u16) -> Duration {
        self.timeout_for(rtu_len::READ_REQUEST, rtu_len::read_reply(count))
    }

    fn timeout_for(&self, req: usize, resp: usize) -> Duration {
        self.line.reply_timeout(req, resp)
    }

    /// Opens the link if it is not open. A failure here means the gateway or port is down.
    pub async fn connect(&mut self) -> Result<(), FieldError> {
        if self.line.conn.is_some() {
            return Ok(());
        }
        let (tap, state) =
            Tap::new(stream::open(&self.line.via, self.line.policy.connect_timeout).await?);
        // Modbus TCP carries MBAP frames; every other link carries RTU frames.
        let ctx = if matches!(self.line.via, Via::Tcp { .. }) {
            tokio_modbus::client::tcp::attach(tap)
        } else {
            tokio_modbus::client::rtu::attach(tap)
        };
        self.line.conn = Some(Conn { ctx, tap: state });
        Ok(())
    }

    /// Closes the link (the next request reopens it).
    pub fn disconnect(&mut self) {
        self.line.conn = None;
    }

    /// Reads `count` holding registers (function 03) from `start`.
    pub async fn read_holding(
        &mut self,
        slave: u8,
        start: u16,
        count: u16,
    ) -> Result<Vec<u16>, FieldError> {
        self.exchange(slave, Op::Read { start, count }).await
    }

    /// Writes holding registers (function 0x10) from `start`.
    pub async fn write_registers(
        &mut self,
        slave: u8,
        start: u16,
        words: &[u16],
    ) -> Result<(), FieldError> {
        self.exchange(slave, Op::Write { start, words })
            .await
            .map(|_| ())
    }

    async fn exchange(&mut self, slave: u8, op: Op<'_>) -> Result<Vec<u16>, FieldError> {
        let (req_len, resp_len) = op.lens();
        let timeout = self.timeout_for(req_len, resp_len);
        let tries = self.line.policy.tries.max(1);
        let mut last = Attempt::Timeout;
        for _ in 0..tries {
            self.connect().await?;
            self.keep_silence().await;
            match self.attempt(slave, &op, timeout).await {
                Ok(Ok(words)) => {
                    self.line.answered(Exchange::modbus(req_len, resp_len));
                    return Ok(words);
                }
                Ok(Err(code)) if code == 0x0A || code == 0x0B => {
                    last = self.line.failed(Attempt::NoTarget(code));
                }
                Ok(Err(code)) => {
                    // The meter answered: it refuses, retrying will not change its mind.
                    self.line
                        .answered(Exchange::modbus(req_len, rtu_len::EXCEPTION_REPLY));
                    return Err(FieldError::Exception {
                        code,
                        register: op.register(),
                    });
                }
                Err(a) => last = self.line.failed(a),
            }
        }
        Err(last.into_error(slave.to_string(), self.line.via.to_string(), tries, timeout))
    }

    /// Waits out the 3.5-character silence since the last byte on the bus. Modbus TCP
    /// gateways keep their own bus timing, so only links that carry raw frames wait.
    async fn keep_silence(&mut self) {
        if matches!(self.line.via, Via::Tcp { .. }) {
            return;
        }
        let tap_last = self
            .line
            .conn
            .as_ref()
            .and_then(|c| lock(&c.tap).last_activity);
        let last = match (tap_last, self.line.last_activity) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.line.keep_silence_after(last).await;
    }

    async fn attempt(
        &mut self,
        slave: u8,
        op: &Op<'_>,
        timeout: Duration,
    ) -> Result<Result<Vec<u16>, u8>, Attempt> {
        let Some(conn) = self.line.conn.as_mut() else {
            return Err(Attempt::Broken("not connected".into()));
        };
        lock(&conn.tap).purge_before_write = true;
        conn.ctx.set_slave(Slave(slave));
        // `Client::call`, not the `Reader` helpers: those assert (and in debug builds panic)
        // when a reply carries another register count; we check it and retry instead.
        let request = match op {
            Op::Read { start, count } => Request::ReadHoldingRegisters(*start, *count),
            Op::Write { start, words } => {
                Request::WriteMultipleRegisters(*start, std::borrow::Cow::Borrowed(words))
            }
        };
        let call = async {
            conn.ctx.call(request).await.map(|r| {
                r.map(|resp| match resp {
                    Response::ReadHoldingRegisters(words) => words,
                    _ => Vec::new(),
                })
            })
        };
        let outcome = tokio::time::timeout(timeout, call).await;
        self.line.last_activity = Some(Instant::now());
        let rx = std::mem::take(&mut lock(&conn.tap).rx);
        match outcome {
            Err(_elapsed) => Err(classify(slave, &rx, op)),
            Ok(Err(tokio_modbus::Error::Transport(e))) => {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    // The codec gave up on the stream; it cannot be reused.
                    self.line.conn = None;
                    Err(match classify(slave, &rx, op) {
                        Attempt::Timeout => Attempt::Garbled(e.to_string()),
                        other => other,
                    })
                } else {
                    Err(Attempt::Broken(e.to_string()))
                }
            }
            Ok(Err(tokio_modbus::Error::Protocol(p))) => match p {
                tokio_modbus::ProtocolError::HeaderMismatch { .. } => Err(Attempt::WrongAddress(
                    rx.first().copied().unwrap_or(0).to_string(),
                )),
                other => Err(Attempt::Garbled(other.to_string())),
            },
            Ok(Ok(Err(exc))) => Ok(Err(exception_code(exc))),
            Ok(Ok(Ok(words))) => match op {
                Op::Read { count, .. } if words.len() != usize::from(*count) => Err(
                    Attempt::Garbled(format!("{} registers instead of {count}", words.len())),
                ),
                _ => Ok(Ok(words)),
            },
        }
    }
}

fn exception_code(e: ExceptionCode) -> u8 {
    u8::from(e)
}

/// Says why a reply did not decode, from the bytes that arrived (RTU framing).
fn classify(slave: u8, rx: &[u8], op: &Op<'_>) -> Attempt {
    let Some(&first) = rx.first() else {
        return Attempt::Timeout;
    };
    if first != slave {
        return Attempt::WrongAddress(first.to_string());
    }
    let (_, want) = op.lens();
    let len = if rx.get(1).is_some_and(|f| f & 0x80 != 0) {
        rtu_len::EXCEPTION_REPLY
    } else {
        want
    };
    if rx.len() >= len {
        let (body, crc) = rx[..len].split_at(len - 2);
        if crate::protocol::rtu::crc16(body).to_le_bytes() != [crc[0], crc[1]] {
            return Attempt::BadCheck;
        }
    }
    Attempt::Garbled(format!("{} bytes that are not a reply", rx.len()))
}
