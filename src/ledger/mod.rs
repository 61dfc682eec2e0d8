//! The double-entry ledger: accounts, postings, operations, idempotency.
//!
//! Every change of money is an operation whose postings sum to zero. Each tenant has a
//! balance account (`tenant:<id>`, positive = credit); system accounts take the other side
//! (`pay:<method>`, `revenue:consumption`, `revenue:final_charge`, `transfer_in`,
//! `refunds_paid`, `arrears`). An operation is one redb write transaction holding its
//! postings, its operation record, its audit entry and the meter commands it causes
//! (`outbox`). Every operation carries an idempotency key: a retry gets the first answer
//! and changes nothing. All writes go through one writer thread that commits concurrent
//! requests together (group commit, see `writer`). docs/ledger.md states the invariants
//! and the tests that prove them.
//!
//! ```
//! use voltvend::auth::{Actor, Role};
//! use voltvend::ledger::{Ledger, MeterAccountInit, OpenAccount, Sale};
//! use voltvend::site::BillingMode;
//! use voltvend::units::Fen;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = voltvend::store::Store::open(&dir.path().join("v.redb")).unwrap();
//! let ledger = Ledger::open(store).unwrap();
//! let cashier = Actor::operator("amy", Role::Cashier);
//! ledger.open_account(&cashier, "open-T1", OpenAccount {
//!     tenant: "T1".into(),
//!     meters: vec![MeterAccountInit { meter: "M1".into(), billing: BillingMode::Host }],
//!     transfer_in: None,
//! }).unwrap();
//! let sale = Sale { tenant: "T1".into(), amount: Fen(5000), method: "cash".into(),
//!                   receipt_no: None, meter: None };
//! let first = ledger.sale(&cashier, "kiosk-42", sale.clone()).unwrap();
//! let retry = ledger.sale(&cashier, "kiosk-42", sale).unwrap();
//! assert_eq!(first, retry);
//! assert_eq!(ledger.account(&"T1".into()).unwrap().unwrap().balance, Fen(5000));
//! ```

mod error;
mod exec;
pub mod money;
pub mod outbox;
mod read;
pub mod tables;
mod tx;
mod types;
mod writer;

pub use error::LedgerError;
pub use exec::set_tripped_in;
pub use read::VerifyReport;
pub use types::*;
pub use writer::MAX_BATCH;

use crate::auth::Actor;
use crate::site::{MeterId, TenantId};
use crate::store::Store;
use crate::units::Fen;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use writer::{Job, Reply};

/// A handle on the ledger; clone it freely. Open ONE per process and share clones: each
/// `Ledger::open` starts its own writer, and two writers would split the group commits.
/// The writer thread stops when the last handle is dropped (after finishing the requests
/// already queued).
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    cap: Arc<AtomicI64>,
    committed: tokio::sync::broadcast::Sender<OpReceipt>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the writer's loop; wait so the database is released.
        self.jobs.take();
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}

impl Ledger {
    /// Creates the ledger tables if needed and starts the writer.
    pub fn open(store: Store) -> Result<Ledger, LedgerError> {
        {
            let txn = store.db().begin_write()?;
            {
                let _ = tx::Tx::new(&txn, None)?;
                txn.open_table(outbox::OUTBOX)?;
            }
            txn.commit()?;
        }
        let (send, recv) = mpsc::channel();
        let cap = Arc::new(AtomicI64::new(writer::NO_CAP));
        let (committed, _) = tokio::sync::broadcast::channel(1024);
        let writer = {
            let store = store.clone();
            let cap = cap.clone();
            let committed = committed.clone();
            std::thread::Builder::new()
                .name("ledger-writer".into())
                .spawn(move || writer::run(store, recv, cap, committed))
                .map_err(|e| LedgerError::BatchFailed(format!("cannot start the writer: {e}")))?
        };
        Ok(Ledger {
            inner: Arc::new(Inner {
                store,
                jobs: Some(send),
                writer: Some(writer),
                cap,
                committed,
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Receipts of newly committed operations, in commit order, sent after their commit
    /// (replayed retries are not sent again). For the control queue (trip a host-mode meter
    /// whose balance reached zero) and alarms (balance thresholds). A receiver that falls
    /// more than 1024 behind gets `Lagged` and should re-read balances.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<OpReceipt> {
        self.inner.committed.subscribe()
    }

    /// Sets the hoarding cap (囤积金额上限): no sale may take a balance above it.
    pub fn set_hoarding_cap(&self, cap: Fen) {
        self.inner.cap.store(cap.0.max(0), Ordering::Relaxed);
    }

    pub fn clear_hoarding_cap(&self) {
        self.inner.cap.store(writer::NO_CAP, Ordering::Relaxed);
    }

    pub fn hoarding_cap(&self) -> Option<Fen> {
        writer::cap_of(&self.inner.cap)
    }

    fn queue(
        &self,
        actor: &Actor,
        key: &str,
        req: Request,
        reply: Reply,
    ) -> Result<(), LedgerError> {
        let jobs = self.inner.jobs.as_ref().ok_or(LedgerError::WriterGone)?;
        jobs.send(Job {
            actor: actor.clone(),
            key: key.to_string(),
            req,
            reply,
        })
        .map_err(|_| LedgerError::WriterGone)
    }

    /// Runs one operation and waits until it is durable (or refused). Blocks the calling
    /// thread: from async code use [`Ledger::submit_async`].
    pub fn submit(&self, actor: &Actor, key: &str, req: Request) -> Result<OpReceipt, LedgerError> {
        let (send, recv) = mpsc::sync_channel(1);
        self.queue(actor, key, req, Reply::Blocking(send))?;
        recv.recv().map_err(|_| LedgerError::WriterGone)?
    }

    /// [`Ledger::submit`] for async callers.
    pub async fn submit_async(
        &self,
        actor: &Actor,
        key: &str,
        req: Request,
    ) -> Result<OpReceipt, LedgerError> {
        let (send, recv) = tokio::sync::oneshot::channel();
        self.queue(actor, key, req, Reply::Async(send))?;
        recv.await.map_err(|_| LedgerError::WriterGone)?
    }

    pub fn open_account(
        &self,
        actor: &Actor,
        key: &str,
        r: OpenAccount,
    ) -> Result<OpReceipt, LedgerError> {
        self.submit(actor, key, Request::OpenAccount(r))
    }

    pub fn add_meter(
        &self,
        actor: &Actor,
        key: &str,
        r: AddMeter,
    ) -> Result<OpReceipt, LedgerError> {
        self.submit(actor, key, Request::AddMeter(r))
    }

    pub fn sale(&self, actor: &Actor, key: &str, r: Sale) -> Result<OpReceipt, LedgerError> {
        self.submit(actor, key, Request::Sale(r))
    }

    pub fn refund(&self, actor: &Actor, key: &str, r: Refund) -> Result<OpReceipt, LedgerError> {
        self.submit(actor, key, Request::Refund(r))
    }

    pub fn reverse(&self, actor: &Actor, key: &str, r: Reverse) -> Result<OpReceipt, LedgerError> {
        self.submit(actor, key, Request::Reverse(r))
    }

    pub fn close_account(
        &self,
        actor: &Actor,
        key: &str,
        r: CloseAccount,
    ) -> Result<OpReceipt, LedgerError> {
        self.submit(actor, key, Request::CloseAccount(r))
    }

    pub fn charge_consumption(
        &self,
        actor: &Actor,
        key: &str,
        r: ChargeConsumption,
    ) -> Result<OpReceipt, LedgerError> {
        self.submit(actor, key, Request::ChargeConsumption(r))
    }

    pub fn account(&self, tenant: &TenantId) -> Result<Option<AccountView>, LedgerError> {
        read::account(self.store(), tenant)
    }

    pub fn meter_account(&self, meter: &MeterId) -> Result<Option<MeterAccountView>, LedgerError> {
        read::meter_account(self.store(), meter)
    }

    /// Every account (tenant and system) with its balance.
    pub fn balances(&self) -> Result<BTreeMap<String, Fen>, LedgerError> {
        read::balances(self.store())
    }

    pub fn operations(&self, filter: &OpFilter) -> Result<Vec<Operation>, LedgerError> {
        read::operations(self.store(), filter)
    }

    pub fn operation(&self, id: u64) -> Result<Option<Operation>, LedgerError> {
        read::operation(self.store(), id)
    }

    /// The answer recorded for an idempotency key (e.g. to tell a payment provider's
    /// retry that it was already booked).
    pub fn receipt_for_key(&self, key: &str) -> Result<Option<OpReceipt>, LedgerError> {
        read::receipt_for_key(self.store(), key)
    }

    /// Checks every invariant over the whole store.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        read::verify(self.store())
    }
}

/// Reads without starting a writer (e.g. `voltvend ledger verify` on a copy).
pub mod reads {
    pub use super::read::{
        account, balances, meter_account, operation, operations, receipt_for_key, verify,
    };
}
