//! DL/T 645-2007 transport over a serial port or a raw TCP serial server.
//!
//! The frames come from `protocol::dlt645` (pure codec); this module owns the stream: it
//! purges stale input, sends the request behind the FE wake-up bytes, reads with a deadline
//! computed from the wire time, skips noise and replies from other meters, follows on
//! (0x12) when the meter says more data follows, and retries.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::{Attempt, FieldError};
use super::link::Via;
use super::stream::{self, BusStream, Line};
use super::tap::{SharedTap, Tap, lock};
use super::transport::RetryPolicy;
use super::wire::LineTiming;
use crate::protocol::dlt645::{self, Address, Dlt645Error, Frame, StreamDecoder, build, di::Di};
use crate::protocol::floor::{Exchange, WireProtocol};

pub(super) struct Conn {
    stream: Tap<Box<dyn BusStream>>,
    tap: SharedTap,
}

/// One DL/T 645 bus behind one link; owned by exactly one task.
pub struct Dlt645Bus {
    /// The bus task reads and resets the counters here.
    pub(super) line: Line<Conn>,
}

impl Dlt645Bus {
    pub fn new(via: Via, timing: LineTiming, policy: RetryPolicy) -> Dlt645Bus {
        Dlt645Bus {
            line: Line::new(via, WireProtocol::Dlt645, timing, policy),
        }
    }

    /// The reply timeout of a request of `req` plain data bytes expecting `resp` back.
    pub fn timeout_for(&self, req_data: usize, resp_data: usize) -> Duration {
        let frame = |data| dlt645::WAKE_UP_LEN + dlt645::OVERHEAD + data;
        self.line.reply_timeout(frame(req_data), frame(resp_data))
    }

    pub async fn connect(&mut self) -> Result<(), FieldError> {
        if self.line.conn.is_some() {
            return Ok(());
        }
        let stream = stream::open(&self.line.via, self.line.policy.connect_timeout).await?;
        let (stream, tap) = Tap::new(stream);
        self.line.conn = Some(Conn { stream, tap });
        Ok(())
    }

    pub fn disconnect(&mut self) {
        self.line.conn = None;
    }

    /// Reads one data identifier, following on until the meter has sent everything.
    pub async fn read(&mut self, address: &str, di: u32) -> Result<Vec<u8>, FieldError> {
        let addr = parse_address(address)?;
        let di = Di(di);
        let resp_guess = di.info().map_or(16, |i| 4 + i.value_len());
        let first = self
            .exchange(address, &build::read(addr, di), resp_guess)
            .await?;
        let reply = build::parse_read_reply(&first, &addr, di).map_err(|e| meter_error(e, di.0))?;
        let mut value = reply.value;
        let mut more = reply.follow_on;
        let mut seq: u8 = 0;
        while more {
            seq = seq.wrapping_add(1);
            let f = self
                .exchange(address, &build::read_follow_on(addr, di, seq), 64)
                .await?;
            let r = build::parse_read_reply(&f, &addr, di).map_err(|e| meter_error(e, di.0))?;
            value.extend_from_slice(&r.value);
            more = r.follow_on && seq < 32;
        }
        Ok(value)
    }

    /// Sends a write/control request and checks the meter accepted it.
    pub async fn command(&mut self, address: &str, request: &Frame) -> Result<(), FieldError> {
        let addr = parse_address(address)?;
        let reply = self.exchange(address, request, 1).await?;
        let di = request
            .data
            .get(..4)
            .and_then(Di::from_wire)
            .map_or(0, |d| d.0);
        build::check_reply(&reply, &addr, request.control.function())
            .map_err(|e| meter_error(e, di))
    }

    /// Reads the address of the only meter on the bus (C = 0x13 to the wildcard address).
    pub async fn read_address(&mut self) -> Result<String, FieldError> {
        let reply = self
            .exchange("AAAAAAAAAAAA", &build::read_address(), 6)
            .await?;
        build::parse_read_address_reply(&reply)
            .map(|a| a.to_string())
            .map_err(|e| FieldError::Other(e.to_string()))
    }

    /// One request with retries; returns the first frame from `address` (the wildcard
    /// accepts any meter).
    async fn exchange(
        &mut self,
        address: &str,
        request: &Frame,
        resp_data: usize,
    ) -> Result<Frame, FieldError> {
        let bytes = dlt645::encode_with_preamble(request)
            .map_err(|e| FieldError::Other(format!("cannot encode the request: {e}")))?;
        let timeout = self.timeout_for(request.data.len(), resp_data);
        let tries = self.line.policy.tries.max(1);
        let mut last = Attempt::Timeout;
        for _ in 0..tries {
            self.connect().await?;
            self.keep_silence().await;
            match self.attempt(&bytes, &request.address, timeout).await {
                Ok((frame, received)) => {
                    // The reply's own length, and the wake-up bytes (at most four) before it.
                    let reply = dlt645::OVERHEAD + frame.data.len();
                    let wake_up = received.saturating_sub(reply).min(dlt645::WAKE_UP_LEN);
                    let request = bytes.len().saturating_sub(dlt645::WAKE_UP_LEN);
                    self.line
                        .answered(Exchange::dlt645(request, reply, wake_up));
                    return Ok(frame);
                }
                Err(a) => last = self.line.failed(a),
            }
        }
        Err(last.into_error(
            address.to_string(),
            self.line.via.to_string(),
            tries,
            timeout,
        ))
    }

    async fn keep_silence(&mut self) {
        self.line.keep_silence_after(self.line.last_activity).await;
    }

    async fn attempt(
        &mut self,
        bytes: &[u8],
        to: &Address,
        timeout: Duration,
    ) -> Result<(Frame, usize), Attempt> {
        let Some(conn) = self.line.conn.as_mut() else {
            return Err(Attempt::Broken("not connected".into()));
        };
        lock(&conn.tap).purge_before_write = true;
        let deadline = tokio::time::Instant::now() + timeout;
        let result = async {
            conn.stream
                .write_all(bytes)
                .await
                .map_err(|e| Attempt::Broken(e.to_string()))?;
            let mut dec = StreamDecoder::new();
            let mut seen = Attempt::Timeout;
            let mut buf = [0u8; 256];
            let mut received = 0usize;
            loop {
                let n = match tokio::time::timeout_at(deadline, conn.stream.read(&mut buf)).await {
                    Err(_) => return Err(seen),
                    Ok(Err(e)) => return Err(Attempt::Broken(e.to_string())),
                    Ok(Ok(0)) => return Err(Attempt::Broken("connection closed".into())),
                    Ok(Ok(n)) => n,
                };
                received += n;
                dec.push(&buf[..n]);
                loop {
                    match dec.next_frame() {
                        Ok(Some(f)) => {
                            if f.control.is_reply() && (to.has_wildcard() || f.address == *to) {
                                return Ok((f, received));
                            }
                            if f.control.is_reply() {
                                seen = Attempt::WrongAddress(f.address.to_string());
                            }
                            // Our own echo or another master's request: keep reading.
                        }
                        Ok(None) => break,
                        Err(Dlt645Error::BadChecksum { .. }) => seen = Attempt::BadCheck,
                        Err(e) => seen = Attempt::Garbled(e.to_string()),
                    }
                }
            }
        }
        .await;
        self.line.last_activity = Some(Instant::now());
        result
    }
}

fn parse_address(address: &str) -> Result<Address, FieldError> {
    Address::parse(address).map_err(|e| FieldError::Other(e.to_string()))
}

/// A reply that decoded but says no: the meter's own error, or a protocol mismatch.
fn meter_error(e: Dlt645Error, di: u32) -> FieldError {
    match e {
        Dlt645Error::Abnormal { errors, .. } => FieldError::Abnormal { code: errors.0, di },
        other => FieldError::Other(format!("unexpected reply: {other}")),
    }
}
