//! Requests, records and views of the ledger.

use crate::auth::Actor;
use crate::site::{BillingMode, MeterId, TenantId};
use crate::units::{Fen, SubFen, Wh};
use serde::{Deserialize, Serialize};

/// A meter put on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterAccountInit {
    pub meter: MeterId,
    pub billing: BillingMode,
}

/// Balance carried over from a tenant's old meter (e.g. a replaced prepaid meter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferIn {
    pub amount: Fen,
    pub old_meter_serial: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAccount {
    pub tenant: TenantId,
    pub meters: Vec<MeterAccountInit>,
    pub transfer_in: Option<TransferIn>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMeter {
    pub tenant: TenantId,
    pub meter: MeterAccountInit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub tenant: TenantId,
    pub amount: Fen,
    /// "cash", "wechat", "alipay", "unionpay", "sandbox", …: one clearing account each.
    pub method: String,
    pub receipt_no: Option<String>,
    /// The meter-mode meter that receives the credit; needed only when the tenant has more
    /// than one.
    pub meter: Option<MeterId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub tenant: TenantId,
    pub amount: Fen,
    pub reason: String,
    /// The meter-mode meter the credit is withdrawn from; needed only when the tenant has
    /// more than one. (Left out of the encoding when absent, so earlier requests keep their
    /// fingerprint.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<MeterId>,
}

/// The idempotency key of the settlement of refund `op`: one settlement per refund, and a
/// settlement already booked is found by it.
pub fn refund_settle_key(op: u64) -> String {
    format!("refund-settle:{op}")
}

/// The end of a refund that waited for its withdrawal from a meter-mode meter: paid out
/// (the meter confirmed the withdrawal) or cancelled (the meter refused it, or the command
/// failed): the money goes back on the account. Posted by the control queue only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettleRefund {
    /// The refund operation.
    pub op: u64,
    pub paid: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reverse {
    pub op: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseAccount {
    pub tenant: TenantId,
    pub final_charge: Fen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeConsumption {
    pub meter: MeterId,
    /// Unique per reading (e.g. `meter@timestamp`): a reading is charged at most once.
    pub reading_key: String,
    pub energy: Wh,
    /// Exact cost of `energy` (from `tariff::cost`).
    pub cost: SubFen,
    pub at: jiff::Timestamp,
}

/// Any ledger operation, as submitted to the writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    OpenAccount(OpenAccount),
    AddMeter(AddMeter),
    Sale(Sale),
    Refund(Refund),
    Reverse(Reverse),
    CloseAccount(CloseAccount),
    ChargeConsumption(ChargeConsumption),
    SettleRefund(SettleRefund),
}

/// The kind of a recorded operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    OpenAccount,
    AddMeter,
    Sale,
    Refund,
    Reverse,
    CloseAccount,
    Consumption,
    RefundSettled,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::OpenAccount => "open_account",
            OpKind::AddMeter => "add_meter",
            OpKind::Sale => "sale",
            OpKind::Refund => "refund",
            OpKind::Reverse => "reverse",
            OpKind::CloseAccount => "close_account",
            OpKind::Consumption => "consumption",
            OpKind::RefundSettled => "refund_settled",
        }
    }
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of an operation: `amount` added to `account` (negative = taken off).
/// The postings of every operation sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: String,
    pub amount: Fen,
}

/// What an operation did, beyond its postings. Externally tagged (`{"sale": {…}}`):
/// serde_json cannot read an `i128` (`SubFen`) inside an internally tagged enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpDetail {
    OpenAccount {
        meters: Vec<MeterAccountInit>,
        transfer_in: Option<TransferIn>,
    },
    AddMeter {
        meter: MeterAccountInit,
    },
    Sale {
        amount: Fen,
        method: String,
        receipt_no: Option<String>,
        /// The credit pushed to a meter-mode meter: (meter, purchase count).
        credit: Option<(MeterId, u32)>,
    },
    Refund {
        amount: Fen,
        reason: String,
        /// A meter-mode refund: the credit withdrawn from (meter, purchase count) first; the
        /// money waits in `refunds_pending` until the withdrawal is confirmed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withdraw: Option<(MeterId, u32)>,
    },
    /// A pending refund paid out (`paid`) or cancelled (the money back on the account).
    RefundSettled {
        refund_op: u64,
        amount: Fen,
        paid: bool,
        reason: String,
    },
    Reverse {
        op: u64,
        reversed_kind: OpKind,
        reason: String,
    },
    /// The close record.
    CloseAccount {
        final_charge: Fen,
        /// Paid back to the tenant to settle a positive balance.
        refunded: Fen,
        /// Written off as owed by the tenant to settle a negative balance.
        arrears: Fen,
        meters: Vec<MeterId>,
    },
    Consumption {
        meter: MeterId,
        reading_key: String,
        energy: Wh,
        cost: SubFen,
        /// Whole fen posted by this reading.
        charged: Fen,
        /// The meter's sub-fen remainder after this reading.
        carry: SubFen,
        reading_at: jiff::Timestamp,
    },
}

impl OpDetail {
    pub fn kind(&self) -> OpKind {
        match self {
            OpDetail::OpenAccount { .. } => OpKind::OpenAccount,
            OpDetail::AddMeter { .. } => OpKind::AddMeter,
            OpDetail::Sale { .. } => OpKind::Sale,
            OpDetail::Refund { .. } => OpKind::Refund,
            OpDetail::Reverse { .. } => OpKind::Reverse,
            OpDetail::CloseAccount { .. } => OpKind::CloseAccount,
            OpDetail::Consumption { .. } => OpKind::Consumption,
            OpDetail::RefundSettled { .. } => OpKind::RefundSettled,
        }
    }
}

/// A recorded operation: never edited once written (corrections are new operations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub id: u64,
    /// The idempotency key it was submitted with.
    pub key: String,
    pub at: jiff::Timestamp,
    pub actor: Actor,
    pub tenant: Option<TenantId>,
    pub detail: OpDetail,
    pub postings: Vec<Posting>,
    /// The tenant's balance right after this operation.
    pub balance_after: Option<Fen>,
    /// Outbox entries written with it.
    pub outbox: Vec<u64>,
    pub audit_seq: u64,
}

/// The answer to an operation; a retry with the same key gets the same receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpReceipt {
    pub op: u64,
    pub kind: OpKind,
    pub tenant: Option<TenantId>,
    /// The effect on the tenant's balance (sale +, refund −, reversal ±, charge −).
    pub amount: Fen,
    pub balance: Option<Fen>,
    pub outbox: Vec<u64>,
    pub at: jiff::Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Open,
    Closed,
}

/// A tenant's account record (its balance lives in the accounts table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantAccount {
    pub tenant: TenantId,
    pub status: AccountStatus,
    pub meters: Vec<MeterId>,
    pub opened_op: u64,
    pub closed_op: Option<u64>,
}

/// A meter's account state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterAccountView {
    pub meter: MeterId,
    pub tenant: TenantId,
    pub billing: BillingMode,
    /// Credit pushes to this meter so far (meter mode); never goes back once sent.
    pub purchase_count: u32,
    /// Charged cost below one fen, carried to the next reading.
    pub carry: SubFen,
    /// The last relay command the host queued was a trip (host mode).
    pub tripped: bool,
    pub closed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub tenant: TenantId,
    pub balance: Fen,
    pub status: AccountStatus,
    pub meters: Vec<MeterAccountView>,
}

/// Which operations to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpFilter {
    pub tenant: Option<TenantId>,
    pub kind: Option<OpKind>,
    /// Only operations with an id above this.
    pub after: Option<u64>,
    /// At most this many (the newest when `newest_first`).
    pub limit: Option<usize>,
    pub newest_first: bool,
}
