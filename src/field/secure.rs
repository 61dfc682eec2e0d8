//! The secure gateway link as a byte pipe (issue 4 item 5). `voltvend gateway` on a gateway
//! box dials the server; both ends run [`protocol::link`](crate::protocol::link) over the
//! TCP connection and carry the raw bus bytes (RTU or DL/T 645 frames) inside sealed data
//! frames. Above the pipe the collector's transports work exactly as over a transparent
//! serial server, so the secure link adds no protocol code of its own.
//!
//! Connection: hellos both ways (fresh nonces: a reconnect re-keys), then the gateway's
//! first data frame names itself: `VVGW1 <gateway-id> <bus>`. The server's [`SecureHub`]
//! keeps the newest connection of each (listen port, gateway, bus) until the bus task of
//! the collector takes it. Refused frames (replayed, reordered, tampered) are dropped and
//! counted; a frame whose length cannot be trusted ends the connection, since the stream
//! can no longer be framed.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::protocol::link::{LinkError, LinkSession, LinkStats, MAX_PAYLOAD, Role, frame_len};

/// The identification line a gateway sends as its first data frame.
pub const HELLO_ID: &str = "VVGW1";
/// Longest wait for the peer's hello and identification.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses a link master key file: 32 hex digits (16 bytes, two-key 3DES), blanks ignored.
pub fn parse_key(text: &str) -> Result<[u8; 16], String> {
    let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if hex.len() != 32 {
        return Err(format!(
            "the link key must be 32 hex digits, found {} characters",
            hex.len()
        ));
    }
    let mut key = [0u8; 16];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("'{}' is not a hex byte", &hex[2 * i..2 * i + 2]))?;
    }
    Ok(key)
}

/// Reads a key file (see [`parse_key`]); the error names the file.
pub fn read_key_file(path: &std::path::Path) -> Result<[u8; 16], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_key(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads one whole link frame from `r` (`Ok(None)` at a clean end of stream).
pub async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R) -> Result<Option<Vec<u8>>, String> {
    let mut buf = vec![0u8; 2];
    match r.read_exact(&mut buf).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let total = match frame_len(&buf) {
        Ok(Some(n)) => n,
        Ok(None) => return Err("short frame".into()),
        Err(e) => return Err(e.to_string()),
    };
    buf.resize(total, 0);
    r.read_exact(&mut buf[2..])
        .await
        .map_err(|e| format!("truncated frame: {e}"))?;
    Ok(Some(buf))
}

/// Exchanges hellos on a fresh connection; returns the established session.
pub async fn handshake(
    stream: &mut TcpStream,
    key: [u8; 16],
    role: Role,
) -> Result<LinkSession, String> {
    let mut s = LinkSession::new(key, role, rand::random());
    stream
        .write_all(&s.hello())
        .await
        .map_err(|e| e.to_string())?;
    let hello = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_frame(stream))
        .await
        .map_err(|_| "no hello from the peer".to_string())??
        .ok_or("the peer closed before its hello")?;
    s.accept_hello(&hello).map_err(|e| e.to_string())?;
    Ok(s)
}

/// Whether a refused frame can be skipped (the stream is still framed) or ends the link.
pub fn skippable(e: &LinkError) -> bool {
    matches!(
        e,
        LinkError::Replayed { .. } | LinkError::BadMac | LinkError::Reflected
    )
}

/// Pumps bytes between `local` (plain bus bytes) and `remote` (sealed frames) until either
/// side ends. `stats` receives the session's counters as they change. The two directions
/// run as separate loops (a frame half read must never be abandoned by a `select!`).
pub async fn pump<L, R>(
    session: LinkSession,
    local: &mut L,
    remote: &mut R,
    stats: &Mutex<LinkStats>,
) -> Result<(), String>
where
    L: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    R: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let session = Mutex::new(session);
    let lock = || {
        session
            .lock()
            .map_err(|_| "link session lock poisoned".to_string())
    };
    let (mut lr, mut lw) = tokio::io::split(local);
    let (mut rr, mut rw) = tokio::io::split(remote);
    let up = async {
        let mut buf = vec![0u8; MAX_PAYLOAD];
        loop {
            let n = lr.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Ok::<(), String>(());
            }
            let f = lock()?.seal(&buf[..n]).map_err(|e| e.to_string())?;
            rw.write_all(&f).await.map_err(|e| e.to_string())?;
        }
    };
    let down = async {
        loop {
            let Some(f) = read_frame(&mut rr).await? else {
                return Ok::<(), String>(());
            };
            let opened = {
                let mut s = lock()?;
                let r = s.open(&f);
                if let Ok(mut g) = stats.lock() {
                    *g = s.stats;
                }
                r
            };
            match opened {
                Ok(p) => lw.write_all(&p).await.map_err(|e| e.to_string())?,
                Err(e) if skippable(&e) => {
                    tracing::warn!(error = %e, "secure link: frame dropped");
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    tokio::select! {
        r = up => r,
        r = down => r,
    }
}

type SlotKey = (u16, String, u8);

/// The connected gateways of this process, by (listen port, gateway id, bus).
#[derive(Default)]
pub struct SecureHub {
    slots: Mutex<HashMap<SlotKey, (u64, DuplexStream)>>,
    listening: Mutex<HashSet<u16>>,
    arrived: Notify,
    next_conn: std::sync::atomic::AtomicU64,
    /// Counters of every connection so far, summed (refused frames etc.).
    pub totals: Mutex<LinkStats>,
}

/// Marks a port as listened on while its accept task lives.
struct Listening(&'static SecureHub, u16);

impl Drop for Listening {
    fn drop(&mut self) {
        if let Ok(mut l) = self.0.listening.lock() {
            l.remove(&self.1);
        }
    }
}

/// The process-wide hub (the collector's transports reach it through `Via::Secure`).
pub fn hub() -> &'static SecureHub {
    static HUB: OnceLock<SecureHub> = OnceLock::new();
    HUB.get_or_init(SecureHub::default)
}

impl SecureHub {
    /// Listens for gateways on `addr` with `key` (once per port; later calls are no-ops).
    /// Must run inside a tokio runtime.
    pub fn listen(&'static self, addr: SocketAddr, key: [u8; 16]) -> std::io::Result<()> {
        {
            let mut l = self.listening.lock().map_err(|_| poisoned())?;
            if !l.insert(addr.port()) {
                return Ok(());
            }
        }
        let std_listener = match std::net::TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => {
                if let Ok(mut l) = self.listening.lock() {
                    l.remove(&addr.port());
                }
                return Err(e);
            }
        };
        std_listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let port = addr.port();
        tracing::info!(%addr, "secure gateway link listening");
        tokio::spawn(async move {
            // The port is free for a new listen once this task ends (its runtime shut
            // down): a later runtime in the same process may be handed the same port.
            let _listening = Listening(self, port);
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "secure gateway accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                tokio::spawn(async move {
                    if let Err(e) = self.serve(stream, port, key).await {
                        tracing::warn!(%peer, error = %e, "secure gateway connection ended");
                    }
                });
            }
        });
        Ok(())
    }

    async fn serve(
        &'static self,
        mut stream: TcpStream,
        port: u16,
        key: [u8; 16],
    ) -> Result<(), String> {
        let _ = stream.set_nodelay(true);
        let mut session = handshake(&mut stream, key, Role::Server).await?;
        let id = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_frame(&mut stream))
            .await
            .map_err(|_| "no identification from the gateway".to_string())??
            .ok_or("the gateway closed before naming itself")?;
        let id = session.open(&id).map_err(|e| e.to_string())?;
        let id = String::from_utf8_lossy(&id).to_string();
        let mut parts = id.split_whitespace();
        let (Some(HELLO_ID), Some(gateway), Some(bus)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("bad identification '{id}'"));
        };
        let bus: u8 = bus.parse().map_err(|_| format!("bad bus '{bus}'"))?;
        let slot: SlotKey = (port, gateway.to_string(), bus);
        let (mut ours, theirs) = tokio::io::duplex(4 * MAX_PAYLOAD);
        let conn = self
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.slots
            .lock()
            .map_err(|_| "hub lock poisoned".to_string())?
            .insert(slot.clone(), (conn, theirs));
        self.arrived.notify_waiters();
        tracing::info!(gateway, bus, "secure gateway connected");
        let stats = Mutex::new(LinkStats::default());
        let r = pump(session, &mut ours, &mut stream, &stats).await;
        if let (Ok(s), Ok(mut t)) = (stats.lock(), self.totals.lock()) {
            t.accepted += s.accepted;
            t.replayed += s.replayed;
            t.tampered += s.tampered;
            t.malformed += s.malformed;
        }
        if let Ok(mut slots) = self.slots.lock()
            && slots.get(&slot).is_some_and(|(c, _)| *c == conn)
        {
            slots.remove(&slot);
        }
        r
    }

    /// The pipe to bus `bus` of `gateway` behind the listener on `port`, waiting up to
    /// `timeout` for the gateway to connect.
    pub async fn take(
        &self,
        port: u16,
        gateway: &str,
        bus: u8,
        timeout: Duration,
    ) -> Result<DuplexStream, String> {
        let key: SlotKey = (port, gateway.to_string(), bus);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.arrived.notified();
            if let Some((_, s)) = self
                .slots
                .lock()
                .map_err(|_| "hub lock poisoned")?
                .remove(&key)
            {
                return Ok(s);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Err(format!(
                    "gateway {gateway} bus {bus} has not connected to port {port}"
                ));
            }
        }
    }
}

fn poisoned() -> std::io::Error {
    std::io::Error::other("secure hub lock poisoned")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen_in_a_runtime_of_its_own(port: u16) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            hub()
                .listen(([127, 0, 0, 1], port).into(), [7; 16])
                .expect("listen");
            // Let the accept task start, then check the port answers.
            tokio::task::yield_now().await;
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("the listener answers");
        });
    }

    #[test]
    fn a_port_is_listened_on_again_after_its_runtime_ended() {
        let port = crate::sim::ports::free_tcp_ports(1).expect("a free port");
        listen_in_a_runtime_of_its_own(port);
        // The first runtime is gone with its listener; a second one must bind again rather
        // than take the port for already served.
        listen_in_a_runtime_of_its_own(port);
    }
}
