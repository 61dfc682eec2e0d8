//! The daemon as a systemd service: readiness and watchdog pings (see [`super::notify`]),
//! and online backups on request.
//!
//! Online backup: redb lets one process open the store, so a backup cannot copy it from
//! outside while the daemon runs. On SIGUSR1 the daemon itself writes a consistent,
//! integrity-checked copy ([`crate::store::backup::backup_to`]) beside the store as
//! [`SNAPSHOT`]; the nightly backup script removes the old one, signals, waits for the new
//! one and archives it — the daemon never stops.

use std::path::PathBuf;
use std::sync::Arc;

use super::Daemon;
use super::notify::{Notifier, watchdog_from_env};
use crate::store::Store;

/// File name of the online backup copy, in the store's directory.
pub const SNAPSHOT: &str = "snapshot.redb";

/// Where the snapshot of `store` goes.
pub fn snapshot_path(store: &Store) -> PathBuf {
    store
        .path()
        .parent()
        .map(|d| d.join(SNAPSHOT))
        .unwrap_or_else(|| PathBuf::from(SNAPSHOT))
}

impl Daemon {
    /// Tells systemd the service is ready and keeps its watchdog fed while the store
    /// answers (a read transaction per ping: a wedged store stops the pings and systemd
    /// restarts the daemon). No-op outside systemd. Returns the notifier for `STOPPING=1`.
    pub fn notify_ready(&mut self) -> Option<Arc<Notifier>> {
        let n = Arc::new(Notifier::from_env()?);
        if let Err(e) = n.notify("READY=1\nSTATUS=serving") {
            tracing::warn!(error = %e, "systemd readiness notification failed");
        }
        if let Some(every) = watchdog_from_env() {
            let (store, ping) = (self.state.store.clone(), n.clone());
            let mut stop = self.stop.subscribe();
            tracing::info!(every_ms = every.as_millis() as u64, "systemd watchdog on");
            self.tasks.push(tokio::spawn(async move {
                loop {
                    let s = store.clone();
                    let healthy = tokio::task::spawn_blocking(move || {
                        redb::ReadableDatabase::begin_read(s.db()).is_ok()
                    })
                    .await
                    .unwrap_or(false);
                    if healthy && let Err(e) = ping.notify("WATCHDOG=1") {
                        tracing::warn!(error = %e, "watchdog notification failed");
                    }
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = tokio::time::sleep(every) => {}
                    }
                }
            }));
        }
        Some(n)
    }

    /// Writes [`SNAPSHOT`] each time the process gets SIGUSR1.
    pub fn run_snapshots(&mut self) {
        let store = self.state.store.clone();
        let mut stop = self.stop.subscribe();
        let mut usr1 =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "no SIGUSR1 handler: online backups off");
                    return;
                }
            };
        self.tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    got = usr1.recv() => if got.is_none() { break },
                }
                let s = store.clone();
                let dest = snapshot_path(&store);
                let started = std::time::Instant::now();
                let r = tokio::task::spawn_blocking(move || {
                    crate::store::backup::backup_to(&s, &dest).map(|r| (r, dest))
                })
                .await;
                match r {
                    Ok(Ok((rep, dest))) => tracing::info!(
                        path = %dest.display(), bytes = rep.bytes,
                        ms = started.elapsed().as_millis() as u64, "online backup written"),
                    Ok(Err(e)) => tracing::error!(error = %e, "online backup failed"),
                    Err(e) => tracing::error!(error = %e, "online backup task failed"),
                }
            }
        }));
    }
}

/// Sends `STOPPING=1` (best effort).
pub fn notify_stopping(n: Option<&Arc<Notifier>>) {
    if let Some(n) = n {
        let _ = n.notify("STOPPING=1");
    }
}
