//! Drains the SMS queue through the GSM modem: every due message is sent (concatenated
//! parts when long) and marked sent, or retried with backoff and finally failed with the
//! modem's reason. The port is opened on first need and reopened after an I/O failure, so
//! a modem unplugged and plugged back in resumes by itself. A restart loses nothing: the
//! queue is in the store.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

use super::modem::{Modem, ModemError};
use super::queue;
use crate::field::link::{Framing, open_serial};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Serial port of the modem (a pty in tests).
    pub port: String,
    pub baud: u32,
    pub smsc: Option<String>,
    /// Time between two looks at the queue.
    pub poll: Duration,
    pub max_attempts: u32,
    pub backoff: Duration,
    /// Longest wait for one modem answer.
    pub timeout: Duration,
}

impl SenderConfig {
    pub fn new(port: &str, baud: u32, smsc: Option<String>) -> SenderConfig {
        SenderConfig {
            port: port.to_string(),
            baud,
            smsc,
            poll: Duration::from_secs(2),
            max_attempts: 5,
            backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(20),
        }
    }
}

type Port = Modem<tokio_serial::SerialStream>;

async fn open(cfg: &SenderConfig) -> Result<Port, ModemError> {
    let port = open_serial(&cfg.port, cfg.baud, Framing::N81)
        .map_err(|e| ModemError::Io(format!("{}: {e}", cfg.port)))?;
    let mut m = Modem::new(port, cfg.timeout, cfg.smsc.clone());
    m.init().await?;
    Ok(m)
}

/// Sends what is due now; returns how many were sent.
pub async fn drain_once(store: &Store, cfg: &SenderConfig, modem: &mut Option<Port>) -> usize {
    let due = match queue::due(store, Timestamp::now()) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "SMS queue unreadable");
            return 0;
        }
    };
    let mut sent = 0;
    for m in due {
        if modem.is_none() {
            match open(cfg).await {
                Ok(p) => *modem = Some(p),
                Err(e) => {
                    failed_attempt(store, cfg, m.id, &e).await;
                    tracing::warn!(error = %e, "GSM modem not ready");
                    continue;
                }
            }
        }
        let Some(port) = modem.as_mut() else { continue };
        match port.send_text(&m.to, &m.text).await {
            Ok(parts) => {
                let _ = queue::mark_sent(store, m.id, Timestamp::now(), parts).await;
                tracing::info!(id = m.id, to = %m.to, parts, "SMS sent");
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(id = m.id, to = %m.to, error = %e, "SMS not sent");
                if matches!(e, ModemError::Io(_) | ModemError::Timeout(..)) {
                    *modem = None;
                }
                failed_attempt(store, cfg, m.id, &e).await;
            }
        }
    }
    sent
}

/// Runs the sender until `stop` turns true.
pub fn spawn(
    store: Store,
    cfg: SenderConfig,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut modem: Option<Port> = None;
        loop {
            drain_once(&store, &cfg, &mut modem).await;
            tokio::select! {
                _ = tokio::time::sleep(cfg.poll) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

/// Records a failed attempt at message `id` (the queue retries it after the backoff and
/// gives up after the last attempt). A store error here is ignored, as the sender's other
/// queue updates are: the loop must keep draining.
async fn failed_attempt(store: &Store, cfg: &SenderConfig, id: u64, e: &ModemError) {
    let _ = queue::mark_failed_attempt(
        store,
        id,
        &e.to_string(),
        Timestamp::now(),
        cfg.max_attempts,
        cfg.backoff,
    )
    .await;
}
