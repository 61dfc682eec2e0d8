//! The byte stream under a bus, whatever its protocol: opening it (a local serial port, a
//! TCP socket to a gateway or serial server, or the pipe of a secure gateway link) and how
//! long a reply on it may take. The Modbus and DL/T 645 transports frame on top of it.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};

use super::error::{Attempt, FieldError};
use super::link::Via;
use super::tap::ClearInput;
use super::wire::LineTiming;
use crate::protocol::floor::{self, Exchange, WireProtocol};

/// Retries and allowances of a bus (the wire time itself comes from [`LineTiming`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub tries: u32,
    /// How long a meter may take to start its reply after the request ends.
    pub turnaround: Duration,
    /// Extra wait for replies that cross a network (gateway, serial server).
    pub network_margin: Duration,
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            tries: 3,
            turnaround: crate::protocol::rtu::DEFAULT_TURNAROUND,
            network_margin: Duration::from_millis(150),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// Counters a bus task reports once per cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusStats {
    /// Requests that got a reply (exceptions included).
    pub requests: u64,
    /// Attempts that failed (timeouts, CRC, garbage).
    pub failed_attempts: u64,
    /// The time the answered requests needed at best: `protocol::floor` of each (characters,
    /// silences or wake-up bytes and gap, and the meter profile's turnaround).
    pub wire_floor: Duration,
}

/// A serial port, a TCP socket or a secure-link pipe.
pub trait BusStream: AsyncRead + AsyncWrite + ClearInput + std::fmt::Debug + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + ClearInput + std::fmt::Debug + Unpin + Send> BusStream for T {}

/// Opens the stream of `via`; a failure (the gateway or port is down) names the link and why.
pub async fn open(via: &Via, connect_timeout: Duration) -> Result<Box<dyn BusStream>, FieldError> {
    let fail = |why: String| FieldError::Connect {
        via: via.to_string(),
        why,
    };
    Ok(match via {
        Via::Serial {
            path,
            baud,
            framing,
        } => Box::new(
            super::link::open_serial(path, *baud, *framing).map_err(|e| fail(e.to_string()))?,
        ),
        Via::Tcp { host, port } | Via::RtuOverTcp { host, port } => {
            let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
            let s = tokio::time::timeout(connect_timeout, connect)
                .await
                .map_err(|_| {
                    fail(format!(
                        "timed out after {} ms",
                        connect_timeout.as_millis()
                    ))
                })?
                .map_err(|e| fail(e.to_string()))?;
            // Requests are small and latency-bound: no Nagle delay.
            let _ = s.set_nodelay(true);
            Box::new(s)
        }
        Via::Secure {
            port, gateway, bus, ..
        } => Box::new(
            super::secure::hub()
                .take(*port, gateway, *bus, connect_timeout)
                .await
                .map_err(fail)?,
        ),
    })
}

/// The reply timeout of a request of `req_len` bytes answered by `resp_len` bytes on `via`:
/// the wire time at `timing`, the meter's turnaround and, across a network, the margin.
pub fn reply_timeout(
    via: &Via,
    timing: LineTiming,
    policy: &RetryPolicy,
    req_len: usize,
    resp_len: usize,
) -> Duration {
    let network = if via.is_network() {
        policy.network_margin
    } else {
        Duration::ZERO
    };
    timing.reply_timeout(req_len, resp_len, policy.turnaround, network)
}

/// What a bus master keeps of its line, whatever protocol runs on it: the link, its frame
/// rules and timing, the retry policy, the open connection `C` (none until the first request
/// or after a broken stream), when the line was last busy, the turnaround of the meter being
/// talked to (for the floor) and the cycle's counters.
pub struct Line<C> {
    pub via: Via,
    pub protocol: WireProtocol,
    pub timing: LineTiming,
    pub policy: RetryPolicy,
    pub conn: Option<C>,
    pub last_activity: Option<Instant>,
    /// The documented turnaround of the meter now being talked to (`Profile::turnaround`).
    pub turnaround: Duration,
    pub stats: BusStats,
}

impl<C> Line<C> {
    pub fn new(
        via: Via,
        protocol: WireProtocol,
        timing: LineTiming,
        policy: RetryPolicy,
    ) -> Line<C> {
        Line {
            via,
            protocol,
            timing,
            policy,
            conn: None,
            last_activity: None,
            turnaround: Duration::ZERO,
            stats: BusStats::default(),
        }
    }

    /// The line as `protocol::floor` sees it.
    pub fn bus_line(&self) -> floor::BusLine {
        floor::BusLine {
            protocol: self.protocol,
            baud: self.timing.baud,
            framing: self.timing.framing,
        }
    }

    /// The silence kept between frames: t3.5 for Modbus RTU, the DL/T 645 gap.
    pub fn gap(&self) -> Duration {
        match self.protocol {
            WireProtocol::ModbusRtu => self.timing.silence(),
            WireProtocol::Dlt645 => floor::dlt645_gap(self.timing.baud),
        }
    }

    /// See [`reply_timeout`].
    pub fn reply_timeout(&self, req_len: usize, resp_len: usize) -> Duration {
        reply_timeout(&self.via, self.timing, &self.policy, req_len, resp_len)
    }

    /// Counts an answered exchange and adds its floor (the meter's turnaround included).
    pub fn answered(&mut self, ex: Exchange) {
        self.stats.requests += 1;
        self.stats.wire_floor += floor::exchange_floor(self.bus_line(), ex, self.turnaround);
    }

    /// Counts a failed attempt and hands it back; a broken stream is dropped, so that the
    /// next attempt reopens the link.
    pub(crate) fn failed(&mut self, a: Attempt) -> Attempt {
        self.stats.failed_attempts += 1;
        if let Attempt::Broken(_) = a {
            self.conn = None;
        }
        a
    }

    /// Waits until the inter-frame silence after `last` (the line's last byte) is over. The
    /// wait holds no borrow of the line (a bus task's future must stay `Send`).
    pub fn keep_silence_after(
        &self,
        last: Option<Instant>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let due = last.map(|l| l + self.gap());
        async move {
            if let Some(due) = due.filter(|d| *d > Instant::now()) {
                tokio::time::sleep_until(due.into()).await;
            }
        }
    }
}
