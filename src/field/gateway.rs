//! The gateway end of the secure link (`voltvend gateway`): owns one RS-485 port, dials the
//! server, and carries the port's bytes through [`secure::pump`](super::secure::pump). The
//! serial port stays open across reconnects; every connection re-keys. Refused frames are
//! counted in [`GatewayBridge::stats`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::link::Via;
use super::secure::{HELLO_ID, handshake, pump};
use crate::protocol::link::{LinkStats, Role};

/// What one `voltvend gateway` process bridges.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// `serial:/dev/ttyS1@9600,8E1` (or a pty in tests).
    pub serial: Via,
    /// The server's secure link listener, HOST:PORT.
    pub connect: String,
    pub key: [u8; 16],
    /// This gateway's id in the site model and the bus number of the port.
    pub gateway: String,
    pub bus: u8,
}

/// A running bridge.
pub struct GatewayBridge {
    pub stats: Arc<Mutex<LinkStats>>,
    /// Connections made so far (1 after the first; each reconnect adds one).
    pub connections: Arc<std::sync::atomic::AtomicU64>,
}

fn open_serial(via: &Via) -> Result<tokio_serial::SerialStream, String> {
    let Via::Serial {
        path,
        baud,
        framing,
    } = via
    else {
        return Err(format!("{via} is not a serial port"));
    };
    super::link::open_serial(path, *baud, *framing).map_err(|e| format!("{via}: {e}"))
}

impl GatewayBridge {
    /// Opens the serial port (an error here is final) and bridges until `stop` turns true,
    /// reconnecting with backoff (0.2 s doubling to 10 s) whenever the server link drops.
    pub fn spawn(
        cfg: BridgeConfig,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(GatewayBridge, tokio::task::JoinHandle<()>), String> {
        let mut port = open_serial(&cfg.serial)?;
        let stats = Arc::new(Mutex::new(LinkStats::default()));
        let connections = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let bridge = GatewayBridge {
            stats: stats.clone(),
            connections: connections.clone(),
        };
        let task = tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            loop {
                let before = connections.load(std::sync::atomic::Ordering::Relaxed);
                let once = async {
                    let mut tcp = tokio::net::TcpStream::connect(cfg.connect.as_str())
                        .await
                        .map_err(|e| format!("connect {}: {e}", cfg.connect))?;
                    let _ = tcp.set_nodelay(true);
                    let mut session = handshake(&mut tcp, cfg.key, Role::Gateway).await?;
                    let id = format!("{HELLO_ID} {} {}", cfg.gateway, cfg.bus);
                    let f = session.seal(id.as_bytes()).map_err(|e| e.to_string())?;
                    tcp.write_all(&f).await.map_err(|e| e.to_string())?;
                    connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(server = %cfg.connect, gateway = %cfg.gateway, bus = cfg.bus, "secure link up");
                    let own = Mutex::new(LinkStats::default());
                    let r = pump(session, &mut port, &mut tcp, &own).await;
                    if let (Ok(o), Ok(mut t)) = (own.lock(), stats.lock()) {
                        t.accepted += o.accepted;
                        t.replayed += o.replayed;
                        t.tampered += o.tampered;
                        t.malformed += o.malformed;
                    }
                    r
                };
                let r = tokio::select! {
                    r = once => r,
                    _ = stop.wait_for(|s| *s) => return,
                };
                if connections.load(std::sync::atomic::Ordering::Relaxed) != before {
                    backoff = Duration::from_millis(200);
                }
                match r {
                    Ok(()) => {
                        tracing::info!(server = %cfg.connect, "secure link closed by the server; reconnecting")
                    }
                    Err(e) => tracing::warn!(server = %cfg.connect, error = %e, "secure link down"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        });
        Ok((bridge, task))
    }
}
