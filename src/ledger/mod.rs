//! The double-entry ledger: accounts, postings, operations, idempotency.
//!
//! Every change of money is an operation whose postings sum to zero. Each tenant has a
//! balance account (`tenant:<id>`, positive = credit); system accounts take the other side
//! (`pay:<method>`, `revenue:consumption`, `revenue:final_charge`, `transfer_in`,
//! `refunds_paid`, `arrears`). An operation is one redb write transaction holding its
//! postings, its operation record, its audit entry and the meter commands it causes
//! (`outbox`). Every operation carries an idempotency key: a retry gets the first answer
//! and changes nothing. All writes go through the store's one writer thread, which commits
//! concurrent requests together (group commit, see `store::writer`). docs/ledger.md states
//! the invariants and the tests that prove them.
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

pub mod arrears;
mod error;
mod exec;
pub mod money;
pub mod outbox;
mod read;
mod tables;
mod tx;
mod types;

pub use crate::store::MAX_BATCH;
pub use error::LedgerError;
pub use read::VerifyReport;
pub use tables::tenant_account;
pub use types::*;

use crate::auth::Actor;
use crate::site::{MeterId, TenantId};
use crate::store::Store;
use crate::units::Fen;
use redb::WriteTransaction;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A handle on the ledger; clone it freely. Its operations are written by the store's one
/// writer thread (group commit, see `store::writer`); this handle adds the hoarding cap and
/// the broadcast of committed operations, so open ONE per process and share clones.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    cap: Arc<AtomicI64>,
    committed: tokio::sync::broadcast::Sender<OpReceipt>,
}

/// The hoarding cap shared between the `Ledger` handles and the jobs they queue.
const NO_CAP: i64 = i64::MIN;

fn cap_of(cap: &AtomicI64) -> Option<Fen> {
    match cap.load(Ordering::Relaxed) {
        NO_CAP => None,
        v => Some(Fen(v)),
    }
}

/// A job's answer: `Err` outside spoils its batch (storage, invariant); `Err` inside is a
/// refused request, which wrote nothing and leaves the batch to the others.
type JobResult = Result<Result<(OpReceipt, bool), LedgerError>, LedgerError>;

impl Ledger {
    /// Creates the ledger tables if needed.
    pub fn open(store: Store) -> Result<Ledger, LedgerError> {
        store.write(|txn| {
            let _ = tx::Tx::new(txn, None)?;
            txn.open_table(outbox::OUTBOX)?;
            Ok::<_, LedgerError>(())
        })?;
        let (committed, _) = tokio::sync::broadcast::channel(1024);
        Ok(Ledger {
            inner: Arc::new(Inner {
                store,
                cap: Arc::new(AtomicI64::new(NO_CAP)),
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
        self.inner.cap.store(NO_CAP, Ordering::Relaxed);
    }

    pub fn hoarding_cap(&self) -> Option<Fen> {
        cap_of(&self.inner.cap)
    }

    /// The work of one operation in the writer's transaction.
    fn job(
        &self,
        actor: &Actor,
        key: &str,
        req: Request,
    ) -> impl FnMut(&WriteTransaction) -> JobResult + Send + 'static {
        let actor = actor.clone();
        let key = key.to_string();
        let cap = self.inner.cap.clone();
        move |txn| {
            let mut tx = tx::Tx::new(txn, cap_of(&cap))?;
            match exec::run(&mut tx, &actor, &key, &req) {
                Err(e) if e.is_fatal() => Err(e),
                answer => {
                    tx.check_invariants()?;
                    Ok(answer)
                }
            }
        }
    }

    /// Hands the committed answer back, announcing a new operation to subscribers.
    fn answered(&self, answer: JobResult) -> Result<OpReceipt, LedgerError> {
        let (receipt, fresh) = answer??;
        if fresh {
            // Nobody listening is fine.
            let _ = self.inner.committed.send(receipt.clone());
        }
        Ok(receipt)
    }

    /// Runs one operation and waits until it is durable (or refused). Blocks the calling
    /// thread: from async code use [`Ledger::submit_async`].
    pub fn submit(&self, actor: &Actor, key: &str, req: Request) -> Result<OpReceipt, LedgerError> {
        let answer = self.inner.store.write(self.job(actor, key, req));
        self.answered(answer)
    }

    /// [`Ledger::submit`] for async callers.
    pub async fn submit_async(
        &self,
        actor: &Actor,
        key: &str,
        req: Request,
    ) -> Result<OpReceipt, LedgerError> {
        let answer = self
            .inner
            .store
            .write_async(self.job(actor, key, req))
            .await;
        self.answered(answer)
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

    /// Every account the tenant has had, oldest first (closed ones, then the current one).
    pub fn accounts_of(&self, tenant: &TenantId) -> Result<Vec<TenantAccount>, LedgerError> {
        read::accounts_of(self.store(), tenant)
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

    /// Refunds waiting for their meter to confirm the withdrawal, oldest first.
    pub fn pending_refunds(&self) -> Result<Vec<Operation>, LedgerError> {
        read::pending_refunds(self.store())
    }
}

/// Reads without starting a writer (e.g. `voltvend ledger verify` on a copy).
pub mod reads {
    pub use super::read::{
        account, accounts_of, balances, closed_tenants, meter_account, operation, operations,
        receipt_for_key, verify,
    };
}
