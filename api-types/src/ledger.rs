//! Ledger operations and the meter-command outbox, as the operator API lists them. These
//! are the daemon's own records in their JSON form (money in fen, energy in Wh, sub-fen
//! amounts in 1e-7 fen, times UTC RFC 3339).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct OpsQuery {
    pub tenant: Option<String>,
    /// Newest first; default 100, at most 1,000.
    pub limit: Option<usize>,
}

/// Who asked for an operation or a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A logged-in staff member; `role` is admin, cashier, viewer or installer.
    Operator { name: String, role: String },
    /// A tenant at the kiosk or on a phone, acting on their own account.
    Tenant { tenant: String },
    /// The appliance itself (collector charges, automatic trips, payment confirmations).
    System { component: String },
}

/// The kind of a recorded operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    OpenAccount,
    AddMeter,
    Sale,
    Refund,
    Reverse,
    CloseAccount,
    Consumption,
    /// A refund on a meter-mode meter paid out or cancelled once the meter answered.
    RefundSettled,
}

/// A meter put on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterAccountInit {
    pub meter: String,
    /// `meter` or `host`.
    pub billing: String,
}

/// Balance carried over from a tenant's old meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferIn {
    /// Fen.
    pub amount: i64,
    pub old_meter_serial: String,
}

/// The credit pushed to a meter-billed meter: (meter, purchase count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterCredit(pub String, pub u32);

/// What an operation did, beyond its postings: `{"sale": {…}}` (externally tagged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        /// Fen.
        amount: i64,
        method: String,
        receipt_no: Option<String>,
        credit: Option<MeterCredit>,
    },
    Refund {
        amount: i64,
        reason: String,
        /// A meter-mode refund: the credit withdrawn from (meter, purchase count) first;
        /// paid out when a `refund_settled` operation follows.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withdraw: Option<MeterCredit>,
    },
    RefundSettled {
        refund_op: u64,
        amount: i64,
        paid: bool,
        reason: String,
    },
    Reverse {
        op: u64,
        reversed_kind: OpKind,
        reason: String,
    },
    CloseAccount {
        final_charge: i64,
        /// Paid back to the tenant to settle a positive balance.
        refunded: i64,
        /// Written off as owed by the tenant to settle a negative balance.
        arrears: i64,
        meters: Vec<String>,
    },
    Consumption {
        meter: String,
        reading_key: String,
        /// Wh.
        energy: i64,
        /// 1e-7 fen.
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        cost: i128,
        /// Whole fen posted by this reading.
        charged: i64,
        /// The meter's sub-fen remainder after this reading (1e-7 fen).
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        carry: i128,
        reading_at: String,
    },
}

/// One line of an operation: `amount` fen added to `account` (negative = taken off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Posting {
    pub account: String,
    pub amount: i64,
}

/// A recorded ledger operation: never edited once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operation {
    pub id: u64,
    /// The idempotency key it was submitted with.
    pub key: String,
    pub at: String,
    pub actor: Actor,
    pub tenant: Option<String>,
    pub detail: OpDetail,
    pub postings: Vec<Posting>,
    /// The tenant's balance right after this operation (fen).
    pub balance_after: Option<i64>,
    /// Outbox entries written with it.
    pub outbox: Vec<u64>,
    pub audit_seq: u64,
}

/// A command for one meter: `"trip"` or, with a value, `{"keep_power": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MeterCommand {
    Trip,
    Close,
    KeepPower(bool),
    RestorePrepaid,
    PushCredit {
        /// Fen.
        amount: i64,
        purchase_count: u32,
    },
    /// Take credit off a meter-mode meter's own balance (a refund).
    WithdrawCredit {
        /// Fen.
        amount: i64,
        purchase_count: u32,
    },
    /// Set a meter-mode meter's own balance to zero (its account closed).
    ClearCredit {
        purchase_count: u32,
    },
    PushPrices,
    PushSettings,
    /// Read the meter's live values now.
    ReadNow,
}

/// A meter command waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    pub id: u64,
    pub meter: String,
    pub command: MeterCommand,
    /// The ledger operation (or other cause) that wrote it; 0 when none.
    pub cause_op: u64,
    pub created_at: String,
}
