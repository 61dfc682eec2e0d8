//! Payment providers and tenant top-ups.
//!
//! A provider turns an order into something the tenant pays with (a QR code / URL), later
//! tells us the outcome in a signed notification, and can be asked about an order. A
//! top-up becomes a ledger sale only when a notification's signature verifies, and exactly
//! once: the ledger idempotency key is the provider's transaction id, so a notification
//! delivered twice, or again after a restart, finds the first sale. See docs/payments.md.

pub mod sandbox;
pub mod topup;

use crate::units::Fen;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use sandbox::SandboxProvider;

/// What we ask a provider to collect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Our order id (the provider's `out_trade_no`), unique per top-up.
    pub order_id: String,
    pub amount: Fen,
    /// Shown in the payer's app, e.g. "Electricity A-101".
    pub subject: String,
}

/// What the tenant pays with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedOrder {
    /// The text to put into the QR code (a URL for every provider we know).
    pub qr_payload: String,
}

/// The outcome a provider reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Paid,
    Declined,
}

/// A verified notification: only `verify_notification` makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub order_id: String,
    /// The provider's transaction id: the idempotency key of the sale.
    pub provider_txn: String,
    pub amount: Fen,
    pub outcome: Outcome,
}

/// What `query` says about an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderState {
    Waiting,
    Done(Confirmation),
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("the payment notification's signature does not verify")]
    BadSignature,
    #[error("the payment notification is malformed: {0}")]
    Malformed(String),
    #[error("the payment provider is unreachable: {0}")]
    Unreachable(String),
    #[error("unknown order {0}")]
    UnknownOrder(String),
    #[error("the order {0} is already settled")]
    AlreadySettled(String),
}

/// A payment provider (sandbox, Alipay face-to-face, UnionPay QR, …).
pub trait PaymentProvider: Send + Sync {
    /// Short name, used as the ledger payment method and in URLs (`sandbox`, `alipay`).
    fn name(&self) -> &'static str;
    /// Registers the order with the provider and returns the QR payload.
    fn create_order(&self, req: OrderRequest) -> BoxFuture<'_, Result<CreatedOrder, PaymentError>>;
    /// Checks a notification's signature and parses it. Pure: no I/O, so a replayed
    /// notification is verified the same way as the first.
    fn verify_notification(
        &self,
        body: &[u8],
        signature: &str,
    ) -> Result<Confirmation, PaymentError>;
    /// Asks the provider about an order (for orders whose notification never came).
    fn query(&self, order_id: String) -> BoxFuture<'_, Result<ProviderState, PaymentError>>;
}
