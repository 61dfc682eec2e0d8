//! Group commit: one writer thread owns every ledger write.
//!
//! Requests queue on a channel. The writer takes the first, then everything else already
//! waiting (up to [`MAX_BATCH`]), runs them in order in ONE write transaction and commits it
//! with `Durability::Immediate` (one fsync for the batch). Only after the commit returns
//! does each caller get its answer, so an acknowledged operation is durable. While one
//! batch is being synced the next one queues up, which is where the speed comes from.
//!
//! A refused request writes nothing (see `exec`), so it cannot spoil its neighbours. If the
//! batch as a whole fails (storage error, broken invariant), each request is retried alone
//! so that one bad request cannot take healthy ones down with it.

use crate::auth::Actor;
use crate::ledger::exec;
use crate::ledger::tx::Tx;
use crate::ledger::{LedgerError, OpReceipt, Request};
use crate::store::Store;
use crate::units::Fen;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

/// Requests per commit at most: bounds the transaction size and the latency of the first.
pub const MAX_BATCH: usize = 512;

pub(crate) type Answer = Result<OpReceipt, LedgerError>;

/// A request's answer and whether it was newly committed (not a replay).
type Outcome = Result<(OpReceipt, bool), LedgerError>;

pub(crate) enum Reply {
    Blocking(SyncSender<Answer>),
    Async(tokio::sync::oneshot::Sender<Answer>),
}

impl Reply {
    fn send(self, answer: Answer) {
        // A caller that gave up waiting is not an error of the ledger.
        match self {
            Reply::Blocking(s) => {
                let _ = s.send(answer);
            }
            Reply::Async(s) => {
                let _ = s.send(answer);
            }
        }
    }
}

pub(crate) struct Job {
    pub actor: Actor,
    pub key: String,
    pub req: Request,
    pub reply: Reply,
}

/// The hoarding cap shared between the `Ledger` handles and the writer.
pub(crate) const NO_CAP: i64 = i64::MIN;

pub(crate) fn cap_of(cap: &AtomicI64) -> Option<Fen> {
    match cap.load(Ordering::Relaxed) {
        NO_CAP => None,
        v => Some(Fen(v)),
    }
}

pub(crate) fn run(
    store: Store,
    rx: Receiver<Job>,
    cap: Arc<AtomicI64>,
    committed: tokio::sync::broadcast::Sender<OpReceipt>,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let cap = cap_of(&cap);
        let answers = match guarded_commit(&store, &jobs, cap) {
            Ok(answers) => answers,
            Err(e) if jobs.len() > 1 => {
                tracing::warn!(error = %e, batch = jobs.len(), "ledger batch failed; retrying one by one");
                jobs.iter()
                    .map(
                        |job| match guarded_commit(&store, std::slice::from_ref(job), cap) {
                            Ok(mut one) => one.pop().unwrap_or(Err(LedgerError::WriterGone)),
                            Err(e) => Err(LedgerError::BatchFailed(e.to_string())),
                        },
                    )
                    .collect()
            }
            Err(e) => vec![Err(LedgerError::BatchFailed(e.to_string()))],
        };
        for (job, answer) in jobs.into_iter().zip(answers) {
            let answer = answer.map(|(receipt, fresh)| {
                if fresh {
                    // Nobody listening is fine.
                    let _ = committed.send(receipt.clone());
                }
                receipt
            });
            job.reply.send(answer);
        }
    }
}

/// [`commit`], with a panic turned into a failed batch so the writer keeps serving.
fn guarded_commit(
    store: &Store,
    jobs: &[Job],
    cap: Option<Fen>,
) -> Result<Vec<Outcome>, LedgerError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(store, jobs, cap)))
        .unwrap_or_else(|_| Err(LedgerError::Invariant("the ledger writer panicked".into())))
}

/// Runs `jobs` in one durable transaction; `Err` when nothing was committed.
fn commit(store: &Store, jobs: &[Job], cap: Option<Fen>) -> Result<Vec<Outcome>, LedgerError> {
    let mut txn = store.db().begin_write()?;
    // redb's default, stated because every acknowledgement relies on it.
    txn.set_durability(redb::Durability::Immediate)
        .map_err(|e| LedgerError::BatchFailed(e.to_string()))?;
    let mut answers = Vec::with_capacity(jobs.len());
    {
        let mut tx = Tx::new(&txn, cap)?;
        for job in jobs {
            match exec::run(&mut tx, &job.actor, &job.key, &job.req) {
                Err(e) if e.is_fatal() => return Err(e),
                answer => answers.push(answer),
            }
        }
        if cfg!(debug_assertions) {
            tx.check_invariants()?;
        }
    }
    txn.commit()?;
    Ok(answers)
}
