//! Why a ledger operation was refused or failed.

use crate::ledger::money::yuan;
use crate::ledger::types::OpKind;
use crate::site::{MeterId, TenantId};
use crate::store::StoreError;
use crate::units::Fen;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{actor} may not {action}")]
    Forbidden { actor: String, action: &'static str },
    #[error("tenant {0} has no account")]
    NoAccount(TenantId),
    #[error("tenant {0} already has an account")]
    AccountExists(TenantId),
    #[error("the account of tenant {0} is closed")]
    AccountClosed(TenantId),
    #[error("meter {0} has no account")]
    NoMeter(MeterId),
    #[error("meter {meter} is already on the account of tenant {tenant}")]
    MeterTaken { meter: MeterId, tenant: TenantId },
    #[error("meter {0} is closed")]
    MeterClosed(MeterId),
    #[error("meter {meter} belongs to tenant {owner}, not to {tenant}")]
    NotTenantsMeter {
        meter: MeterId,
        owner: TenantId,
        tenant: TenantId,
    },
    #[error(
        "tenant {tenant} has several meter-mode meters ({meters}); name the meter that \
         receives this credit"
    )]
    WhichMeter { tenant: TenantId, meters: String },
    #[error("{what} must be more than zero, got {}", yuan(*.amount))]
    NotPositive { what: &'static str, amount: Fen },
    #[error(
        "sale of {} refused: balance would be {}, above the hoarding cap {}; the largest \
         sale allowed now is {}",
        yuan(*.amount), yuan(*.balance_after), yuan(*.cap), yuan(*.largest)
    )]
    HoardingCap {
        amount: Fen,
        balance_after: Fen,
        cap: Fen,
        largest: Fen,
    },
    #[error("refund of {} refused: the balance of tenant {tenant} is only {}", yuan(*.amount), yuan(*.balance))]
    RefundTooLarge {
        tenant: TenantId,
        amount: Fen,
        balance: Fen,
    },
    #[error("operation {0} does not exist")]
    NoOperation(u64),
    #[error("operation {op} was already reversed by operation {by}")]
    AlreadyReversed { op: u64, by: u64 },
    #[error("operation {0} is a reversal; a reversal cannot be reversed")]
    ReversalOfReversal(u64),
    #[error("operation {op} is {kind}; only sales and refunds can be reversed")]
    NotReversible { op: u64, kind: OpKind },
    #[error(
        "the credit of sale {op} was already sent to meter {meter}; it cannot be reversed, \
         use a refund"
    )]
    CreditAlreadySent { op: u64, meter: MeterId },
    #[error(
        "退费 {op} 正在等待电表 {meter} 扣回余额，完成前不能销户 / refund {op} is still \
         waiting for meter {meter} to confirm the withdrawal; the account can be closed once \
         it is done"
    )]
    RefundPending { op: u64, meter: MeterId },
    #[error(
        "退费 {op} 已从电表 {meter} 扣回余额，不能冲正，请重新售电 / refund {op} withdrew credit from meter {meter}; \
         it cannot be reversed, sell again instead"
    )]
    WithdrawalNotReversible { op: u64, meter: MeterId },
    #[error("operation {0} is not a refund waiting for its meter")]
    NotPendingRefund(u64),
    #[error("idempotency key '{key}' was already used by operation {op} for a different request")]
    KeyReused { key: String, op: u64 },
    #[error("reading '{reading_key}' was already charged by operation {op} with other values")]
    ReadingConflict { reading_key: String, op: u64 },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("amount too large: {0}")]
    Overflow(&'static str),
    #[error(transparent)]
    Store(StoreError),
    #[error("nothing was recorded: the ledger commit failed ({0})")]
    BatchFailed(String),
    #[error("the ledger writer has stopped")]
    WriterGone,
    #[error("ledger invariant broken: {0}")]
    Invariant(String),
}

impl LedgerError {
    /// Errors that spoil the whole write transaction (as opposed to a refused request,
    /// which leaves the transaction untouched for the other requests of its batch).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            LedgerError::Store(_) | LedgerError::Invariant(_) | LedgerError::BatchFailed(_)
        )
    }
}

impl From<StoreError> for LedgerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::WriterGone => LedgerError::WriterGone,
            StoreError::WriterPanicked => {
                LedgerError::Invariant("the ledger operation panicked".into())
            }
            StoreError::BatchFailed(why) => LedgerError::BatchFailed(why),
            e => LedgerError::Store(e),
        }
    }
}

macro_rules! via_store {
    ($($t:ty),*) => {$(
        impl From<$t> for LedgerError {
            fn from(e: $t) -> Self {
                LedgerError::Store(StoreError::from(e))
            }
        }
    )*};
}
via_store!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
