//! Tenant top-ups: order → provider QR → verified confirmation → one ledger sale → receipt.
//!
//! Table TOPUPS holds each order (order id → JSON `TopUp`); TOPUP_KEYS maps the client's
//! idempotency key to its order so a double tap on "pay" opens one order, not two. The sale
//! carries the ledger idempotency key `pay:{provider}:{provider transaction id}`: however
//! often and whenever a confirmation arrives, the ledger answers with the first sale.

use super::{Confirmation, OrderRequest, Outcome, PaymentError, PaymentProvider};
use crate::auth::Actor;
use crate::ledger::{Ledger, LedgerError, Sale};
use crate::receipt::{PrintStatus, ReceiptRecord, Receipts, record};
use crate::site::{TenantId, repo};
use crate::store::{Store, StoreError, decode, encode};
use crate::units::Fen;
use redb::{ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

const TOPUPS: TableDefinition<&str, &[u8]> = TableDefinition::new("topups");
const TOPUP_KEYS: TableDefinition<&str, &str> = TableDefinition::new("topup_keys");

/// Where an order stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TopUpState {
    /// The QR code is shown; no verified confirmation yet.
    Waiting,
    /// Paid and credited: the ledger sale `op`, documented by receipt `receipt_no`.
    Paid {
        provider_txn: String,
        op: u64,
        receipt_no: String,
        balance_after_fen: i64,
    },
    /// The payer declined or the provider refused; nothing was charged.
    Declined { provider_txn: String },
    /// Money was received but the ledger refused the sale (e.g. the balance cap was reached
    /// meanwhile by another top-up): staff must refund it through the provider.
    NeedsRefund {
        provider_txn: String,
        reason: String,
    },
}

/// One top-up order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopUp {
    pub order_id: String,
    pub tenant: String,
    pub unit: String,
    pub amount_fen: i64,
    pub provider: String,
    /// What the QR code holds (the provider's payment URL).
    pub qr_payload: String,
    /// UTC, RFC 3339.
    pub created_at: String,
    /// `kiosk` or `op:NAME`.
    pub issued_by: String,
    /// The meter-mode meter the credit goes into, chosen before payment (a tenant with
    /// several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<String>,
    #[serde(flatten)]
    pub state: TopUpState,
}

#[derive(Debug, thiserror::Error)]
pub enum TopUpError {
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Site(String),
    #[error("the amount must be more than 0")]
    NotPositive,
    /// Asked before the order is made, so no one pays for a credit that has nowhere to go.
    #[error("choose the meter that receives the credit: one of {meters}")]
    WhichMeter { meters: String },
    #[error("meter {meter} is not one of your prepaid meters ({meters})")]
    NotYourMeter { meter: String, meters: String },
    #[error(
        "a top-up of {amount} would take the balance above the cap of {cap}: at most {max} now"
    )]
    OverCap { amount: Fen, cap: Fen, max: Fen },
    #[error("no payment provider '{0}' is configured")]
    NoProvider(String),
    #[error(
        "the confirmation for order {order} is for {got}, but the order is for {want}; refused"
    )]
    AmountMismatch { order: String, got: Fen, want: Fen },
    #[error(
        "order {order} was already settled with transaction {txn}; a different transaction is refused"
    )]
    OtherTransaction { order: String, txn: String },
}

/// Top-up orders and their confirmation.
#[derive(Clone)]
pub struct TopUps {
    store: Store,
    ledger: Ledger,
    providers: Arc<HashMap<String, Arc<dyn PaymentProvider>>>,
    default_provider: String,
    receipts: Receipts,
    site_name: String,
}

/// The outcome of handling a confirmation.
#[derive(Debug, Clone)]
pub struct Settled {
    pub topup: TopUp,
    /// True only the first time the confirmation took effect (false for replays).
    pub first: bool,
}

impl TopUps {
    pub fn new(
        store: Store,
        ledger: Ledger,
        providers: Vec<Arc<dyn PaymentProvider>>,
        receipts: Receipts,
        site_name: &str,
    ) -> TopUps {
        let default_provider = providers
            .first()
            .map(|p| p.name().to_string())
            .unwrap_or_default();
        let providers = providers
            .into_iter()
            .map(|p| (p.name().to_string(), p))
            .collect();
        TopUps {
            store,
            ledger,
            providers: Arc::new(providers),
            default_provider,
            receipts,
            site_name: site_name.to_string(),
        }
    }

    pub fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        self.providers.get(name).cloned()
    }

    pub fn receipts(&self) -> &Receipts {
        &self.receipts
    }

    /// The largest top-up the tenant may make now: hoarding cap minus balance.
    pub fn max_topup(&self, tenant: &TenantId) -> Result<(Fen, Fen, Fen), TopUpError> {
        let cap = repo::defaults(&self.store)
            .map_err(|e| TopUpError::Site(e.to_string()))?
            .hoarding_cap;
        let balance = self
            .ledger
            .account(tenant)?
            .map(|a| a.balance)
            .unwrap_or(Fen::ZERO);
        let max = if balance >= cap {
            Fen::ZERO
        } else {
            cap - balance
        };
        Ok((max, cap, balance))
    }

    /// Opens an order (or returns the one already opened under `client_key`).
    pub async fn create(
        &self,
        tenant: &TenantId,
        unit: &str,
        amount: Fen,
        client_key: &str,
        issued_by: &str,
        meter: Option<&str>,
    ) -> Result<TopUp, TopUpError> {
        let key = format!("{tenant}\u{0}{client_key}");
        if let Some(existing) = self.order_for_key(&key)? {
            return Ok(existing);
        }
        if amount <= Fen::ZERO {
            return Err(TopUpError::NotPositive);
        }
        let (max, cap, _) = self.max_topup(tenant)?;
        if amount > max {
            return Err(TopUpError::OverCap { amount, cap, max });
        }
        let meter = self.credit_meter(tenant, meter)?;
        let provider = self
            .provider(&self.default_provider)
            .ok_or_else(|| TopUpError::NoProvider(self.default_provider.clone()))?;
        let now = jiff::Timestamp::now();
        let order_id = format!(
            "P{}{}",
            now.strftime("%Y%m%d%H%M%S"),
            hex::encode(rand::random::<[u8; 4]>())
        );
        let created = provider
            .create_order(OrderRequest {
                order_id: order_id.clone(),
                amount,
                subject: format!("{} {unit}", self.site_name),
            })
            .await?;
        let t = TopUp {
            order_id: order_id.clone(),
            tenant: tenant.to_string(),
            unit: unit.to_string(),
            amount_fen: amount.0,
            provider: provider.name().to_string(),
            qr_payload: created.qr_payload,
            created_at: now.to_string(),
            issued_by: issued_by.to_string(),
            meter,
            state: TopUpState::Waiting,
        };
        let order = encode(&t);
        self.store
            .write_async(move |txn| {
                txn.open_table(TOPUPS)?
                    .insert(order_id.as_str(), order.as_slice())?;
                txn.open_table(TOPUP_KEYS)?
                    .insert(key.as_str(), order_id.as_str())?;
                Ok::<_, StoreError>(())
            })
            .await?;
        Ok(t)
    }

    /// The meter-mode meter a top-up's credit goes into, decided before the order exists: the
    /// one `chosen` (it must be one of the tenant's open meter-mode meters), or none when the
    /// tenant has at most one (the ledger picks it). Several and none chosen: refused.
    fn credit_meter(
        &self,
        tenant: &TenantId,
        chosen: Option<&str>,
    ) -> Result<Option<String>, TopUpError> {
        let prepaid: Vec<String> = self
            .ledger
            .account(tenant)?
            .map(|a| {
                a.meters
                    .iter()
                    .filter(|m| !m.closed && m.billing == crate::site::billing::BillingMode::Meter)
                    .map(|m| m.meter.to_string())
                    .collect()
            })
            .unwrap_or_default();
        match chosen {
            Some(m) if prepaid.iter().any(|p| p == m) => Ok(Some(m.to_string())),
            Some(m) => Err(TopUpError::NotYourMeter {
                meter: m.to_string(),
                meters: prepaid.join(", "),
            }),
            None if prepaid.len() > 1 => Err(TopUpError::WhichMeter {
                meters: prepaid.join(", "),
            }),
            None => Ok(None),
        }
    }

    fn order_for_key(&self, key: &str) -> Result<Option<TopUp>, StoreError> {
        let txn = self.store.db().begin_read()?;
        let keys = match txn.open_table(TOPUP_KEYS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(id) = keys.get(key)? else {
            return Ok(None);
        };
        let id = id.value().to_string();
        drop(keys);
        drop(txn);
        self.get(&id)
    }

    pub fn get(&self, order_id: &str) -> Result<Option<TopUp>, StoreError> {
        let txn = self.store.db().begin_read()?;
        let t = match txn.open_table(TOPUPS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match t.get(order_id)? {
            Some(v) => Ok(Some(decode("topups", v.value())?)),
            None => Ok(None),
        }
    }

    async fn put(&self, t: &TopUp) -> Result<(), StoreError> {
        let (id, order) = (t.order_id.clone(), encode(t));
        self.store
            .write_async(move |txn| {
                txn.open_table(TOPUPS)?
                    .insert(id.as_str(), order.as_slice())?;
                Ok(())
            })
            .await
    }

    /// Orders of one tenant (or all), newest first.
    pub fn list(&self, tenant: Option<&str>, limit: usize) -> Result<Vec<TopUp>, StoreError> {
        let txn = self.store.db().begin_read()?;
        let t = match txn.open_table(TOPUPS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out: Vec<TopUp> = Vec::new();
        for row in redb::ReadableTable::iter(&t)? {
            let (_, v) = row?;
            let x: TopUp = decode("topups", v.value())?;
            if tenant.is_none_or(|w| w == x.tenant) {
                out.push(x);
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        out.truncate(limit);
        Ok(out)
    }

    /// Handles a provider notification: verify, then settle. Safe to call any number of
    /// times with the same notification, before or after a restart.
    pub async fn notify(
        &self,
        provider: &str,
        body: &[u8],
        signature: &str,
    ) -> Result<Settled, TopUpError> {
        let p = self
            .provider(provider)
            .ok_or_else(|| TopUpError::NoProvider(provider.to_string()))?;
        let conf = p.verify_notification(body, signature)?;
        self.settle(provider, conf).await
    }

    /// Applies a verified confirmation.
    async fn settle(&self, provider: &str, conf: Confirmation) -> Result<Settled, TopUpError> {
        let mut t = self
            .get(&conf.order_id)?
            .ok_or_else(|| PaymentError::UnknownOrder(conf.order_id.clone()))?;
        if conf.amount.0 != t.amount_fen {
            return Err(TopUpError::AmountMismatch {
                order: t.order_id,
                got: conf.amount,
                want: Fen(t.amount_fen),
            });
        }
        match &t.state {
            TopUpState::Waiting => {}
            TopUpState::Paid { provider_txn, .. }
            | TopUpState::Declined { provider_txn }
            | TopUpState::NeedsRefund { provider_txn, .. } => {
                if *provider_txn == conf.provider_txn {
                    return Ok(Settled {
                        topup: t,
                        first: false,
                    });
                }
                return Err(TopUpError::OtherTransaction {
                    order: t.order_id,
                    txn: provider_txn.clone(),
                });
            }
        }
        if conf.outcome == Outcome::Declined {
            t.state = TopUpState::Declined {
                provider_txn: conf.provider_txn,
            };
            self.put(&t).await?;
            return Ok(Settled {
                topup: t,
                first: true,
            });
        }
        let tenant = TenantId::new(t.tenant.clone());
        let actor = Actor::system(&format!("payment:{provider}"));
        let key = format!("pay:{provider}:{}", conf.provider_txn);
        let sale = Sale {
            tenant: tenant.clone(),
            amount: conf.amount,
            method: provider.to_string(),
            receipt_no: None,
            meter: t.meter.as_deref().map(crate::site::MeterId::new),
        };
        let op = match self
            .ledger
            .submit_async(&actor, &key, crate::ledger::Request::Sale(sale))
            .await
        {
            Ok(op) => op,
            Err(e) if !e.is_fatal() && !matches!(e, LedgerError::WriterGone) => {
                // The money arrived but cannot be credited: keep it visible for a refund.
                tracing::error!(order = %t.order_id, error = %e, "paid top-up refused by the ledger");
                t.state = TopUpState::NeedsRefund {
                    provider_txn: conf.provider_txn,
                    reason: e.to_string(),
                };
                self.put(&t).await?;
                return Ok(Settled {
                    topup: t,
                    first: true,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let balance_after = match op.balance {
            Some(b) => b,
            None => self
                .ledger
                .account(&tenant)?
                .map(|a| a.balance)
                .unwrap_or(Fen::ZERO),
        };
        let receipt_no = Receipts::number_for_op(op.op);
        let first_receipt = record::get(&self.store, &receipt_no)?.is_none();
        if first_receipt {
            let r = self.receipt_for(&t, &tenant, op.op, provider, balance_after)?;
            record::put_async(&self.store, &r).await?;
        }
        t.state = TopUpState::Paid {
            provider_txn: conf.provider_txn,
            op: op.op,
            receipt_no,
            balance_after_fen: balance_after.0,
        };
        self.put(&t).await?;
        Ok(Settled {
            topup: t,
            first: first_receipt,
        })
    }

    /// Builds the receipt of sale `op` for order `t`.
    fn receipt_for(
        &self,
        t: &TopUp,
        tenant: &TenantId,
        op: u64,
        method: &str,
        balance: Fen,
    ) -> Result<ReceiptRecord, TopUpError> {
        let site_err = |e: crate::site::repo::SiteError| TopUpError::Site(e.to_string());
        let tenant_rec = repo::get_tenant(&self.store, tenant).map_err(site_err)?;
        let defaults = repo::defaults(&self.store).map_err(site_err)?;
        let account = self.ledger.account(tenant)?;
        let (meters, count) = match &account {
            Some(a) => (
                a.meters.iter().map(|m| m.meter.to_string()).collect(),
                a.meters.iter().map(|m| m.purchase_count).max().unwrap_or(0),
            ),
            None => (Vec::new(), 0),
        };
        Ok(make_receipt(ReceiptFacts {
            receipts: &self.receipts,
            site_name: &self.site_name,
            tz: &defaults.tz(),
            receipt_no: Receipts::number_for_op(op),
            tenant: tenant.as_str(),
            tenant_name: tenant_rec.as_ref().map(|x| x.name.as_str()).unwrap_or(""),
            units: tenant_rec
                .as_ref()
                .map(|x| x.units.iter().map(|u| u.to_string()).collect())
                .unwrap_or_else(|| vec![t.unit.clone()]),
            meters,
            amount: Fen(t.amount_fen),
            balance_after: balance,
            purchase_count: count,
            issued_by: &t.issued_by,
            method,
            op,
        }))
    }
}

/// Everything printed on a receipt, gathered by the caller.
pub struct ReceiptFacts<'a> {
    pub receipts: &'a Receipts,
    pub site_name: &'a str,
    pub tz: &'a jiff::tz::TimeZone,
    pub receipt_no: String,
    pub tenant: &'a str,
    pub tenant_name: &'a str,
    pub units: Vec<String>,
    pub meters: Vec<String>,
    pub amount: Fen,
    pub balance_after: Fen,
    pub purchase_count: u32,
    pub issued_by: &'a str,
    pub method: &'a str,
    pub op: u64,
}

/// A signed receipt record from its facts (used for kiosk top-ups and cashier sales).
pub fn make_receipt(f: ReceiptFacts<'_>) -> ReceiptRecord {
    let now = jiff::Timestamp::now();
    let mut r = ReceiptRecord {
        receipt_no: f.receipt_no,
        site_name: f.site_name.to_string(),
        issued_at: now.to_string(),
        local_time: now
            .to_zoned_datetime(f.tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        tenant: f.tenant.to_string(),
        tenant_name: f.tenant_name.to_string(),
        units: f.units,
        meters: f.meters,
        amount_fen: f.amount.0,
        balance_after_fen: f.balance_after.0,
        purchase_count: f.purchase_count,
        issued_by: f.issued_by.to_string(),
        method: f.method.to_string(),
        op: f.op,
        sig: String::new(),
        print: PrintStatus::Pending,
        prints: 0,
    };
    r.sig = f.receipts.sign(&r);
    r
}
