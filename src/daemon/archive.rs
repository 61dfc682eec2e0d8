//! Archival as a task of the daemon: every `every`, one rollup pass, then the removal of
//! old raw readings in small steps with a pause between them, so the collector's writes
//! are never held up by more than one small transaction.

use std::time::Duration;

use super::Daemon;
use crate::archive::{retention, rollup};
use crate::store::Store;

/// Archival settings (config `[archive]`).
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    pub every: Duration,
    pub raw_retention: Duration,
    pub batch: usize,
    /// Pause between two removal steps.
    pub pause: Duration,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            every: Duration::from_secs(3600),
            raw_retention: Duration::from_secs(400 * 86_400),
            batch: 2_000,
            pause: Duration::from_millis(50),
        }
    }
}

/// One rollup pass and the clean-up after it; returns (readings rolled up, removed).
pub async fn pass(store: &Store, cfg: &ArchiveConfig) -> (usize, usize) {
    let s = store.clone();
    let batch = cfg.batch.max(1);
    let rolled = match tokio::task::spawn_blocking(move || {
        rollup::roll_up(&s, jiff::Timestamp::now(), batch * 5)
    })
    .await
    {
        Ok(Ok(r)) => r.readings,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "rollup pass failed");
            return (0, 0);
        }
        Err(e) => {
            tracing::error!(error = %e, "rollup task failed");
            return (0, 0);
        }
    };
    let mut removed = 0;
    loop {
        let s = store.clone();
        let keep = cfg.raw_retention;
        let n = match tokio::task::spawn_blocking(move || {
            retention::prune_step(&s, jiff::Timestamp::now(), keep, batch)
        })
        .await
        {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "removing old readings failed");
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "removal task failed");
                break;
            }
        };
        removed += n;
        if n < batch {
            break;
        }
        tokio::time::sleep(cfg.pause).await;
    }
    if rolled > 0 || removed > 0 {
        tracing::info!(rolled, removed, "archive pass");
    }
    (rolled, removed)
}

impl Daemon {
    /// Runs archival passes until the daemon stops (the first one a minute after start).
    pub fn run_archive(&mut self, cfg: ArchiveConfig) {
        let store = self.state.store.clone();
        let mut stop = self.stop.subscribe();
        self.tasks.push(tokio::spawn(async move {
            let mut wait = Duration::from_secs(60).min(cfg.every);
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
                if *stop.borrow() {
                    break;
                }
                pass(&store, &cfg).await;
                wait = cfg.every;
            }
        }));
    }
}
