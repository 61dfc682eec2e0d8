//! The sandbox provider: a stand-in payment company living inside the appliance, for the
//! demo and tests. Its QR code opens `/pay/sandbox/{order}`, a page with "approve" and
//! "decline"; the choice produces a notification signed with HMAC-SHA256 over the exact
//! body bytes, delivered through the same verification path a real provider's would take.

use super::{
    Confirmation, CreatedOrder, OrderRequest, Outcome, PaymentError, PaymentProvider, ProviderState,
};
use crate::units::Fen;
use futures::future::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type HmacSha256 = Hmac<Sha256>;

/// The notification body the sandbox sends (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxNotice {
    pub order_id: String,
    pub txn_id: String,
    pub amount_fen: i64,
    pub outcome: Outcome,
}

/// The sandbox's book: order id → (amount, decision once made).
type Book = HashMap<String, (Fen, Option<Confirmation>)>;

#[derive(Clone)]
pub struct SandboxProvider {
    key: Vec<u8>,
    base_url: String,
    /// The provider's own book of orders (what the payment company would know).
    orders: Arc<Mutex<Book>>,
}

impl SandboxProvider {
    /// `key` signs notifications; `base_url` is where the payer's phone reaches the
    /// appliance (e.g. `http://192.168.1.10:8080`).
    pub fn new(key: &[u8], base_url: &str) -> SandboxProvider {
        SandboxProvider {
            key: key.to_vec(),
            base_url: base_url.trim_end_matches('/').to_string(),
            orders: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn mac(&self) -> HmacSha256 {
        match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes any key length"),
        }
    }

    /// Signs `body` as the sandbox would (hex HMAC-SHA256).
    pub fn sign(&self, body: &[u8]) -> String {
        let mut m = self.mac();
        m.update(body);
        hex::encode(m.finalize().into_bytes())
    }

    /// The payer decided: returns the signed notification (body, signature) to deliver.
    /// Deciding again returns the same notification (same transaction id), as a real
    /// provider re-sends its notice until acknowledged.
    pub fn decide(&self, order_id: &str, approve: bool) -> Result<(Vec<u8>, String), PaymentError> {
        let mut orders = self.orders.lock().unwrap_or_else(|p| p.into_inner());
        let (amount, done) = orders
            .get_mut(order_id)
            .ok_or_else(|| PaymentError::UnknownOrder(order_id.to_string()))?;
        let conf = match done {
            Some(c) => c.clone(),
            None => {
                let c = Confirmation {
                    order_id: order_id.to_string(),
                    provider_txn: format!("SBX{}", hex::encode(rand::random::<[u8; 8]>())),
                    amount: *amount,
                    outcome: if approve {
                        Outcome::Paid
                    } else {
                        Outcome::Declined
                    },
                };
                *done = Some(c.clone());
                c
            }
        };
        let body = serde_json::to_vec(&SandboxNotice {
            order_id: conf.order_id,
            txn_id: conf.provider_txn,
            amount_fen: conf.amount.0,
            outcome: conf.outcome,
        })
        .map_err(|e| PaymentError::Malformed(e.to_string()))?;
        let sig = self.sign(&body);
        Ok((body, sig))
    }

    /// The amount the sandbox holds for an order (for its payment page).
    pub fn amount_of(&self, order_id: &str) -> Option<Fen> {
        let orders = self.orders.lock().unwrap_or_else(|p| p.into_inner());
        orders.get(order_id).map(|(a, _)| *a)
    }
}

impl PaymentProvider for SandboxProvider {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn create_order(&self, req: OrderRequest) -> BoxFuture<'_, Result<CreatedOrder, PaymentError>> {
        Box::pin(async move {
            let mut orders = self.orders.lock().unwrap_or_else(|p| p.into_inner());
            orders
                .entry(req.order_id.clone())
                .or_insert((req.amount, None));
            Ok(CreatedOrder {
                qr_payload: format!("{}/pay/sandbox/{}", self.base_url, req.order_id),
            })
        })
    }

    fn verify_notification(
        &self,
        body: &[u8],
        signature: &str,
    ) -> Result<Confirmation, PaymentError> {
        let sig = hex::decode(signature.trim()).map_err(|_| PaymentError::BadSignature)?;
        let mut m = self.mac();
        m.update(body);
        m.verify_slice(&sig)
            .map_err(|_| PaymentError::BadSignature)?;
        let n: SandboxNotice =
            serde_json::from_slice(body).map_err(|e| PaymentError::Malformed(e.to_string()))?;
        if n.txn_id.is_empty() || n.amount_fen <= 0 {
            return Err(PaymentError::Malformed(
                "empty transaction id or amount".into(),
            ));
        }
        Ok(Confirmation {
            order_id: n.order_id,
            provider_txn: n.txn_id,
            amount: Fen(n.amount_fen),
            outcome: n.outcome,
        })
    }

    fn query(&self, order_id: String) -> BoxFuture<'_, Result<ProviderState, PaymentError>> {
        Box::pin(async move {
            let orders = self.orders.lock().unwrap_or_else(|p| p.into_inner());
            Ok(match orders.get(&order_id) {
                Some((_, Some(c))) => ProviderState::Done(c.clone()),
                Some((_, None)) => ProviderState::Waiting,
                None => ProviderState::Unknown,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notification_verifies_and_tampering_is_refused() {
        let p = SandboxProvider::new(b"k", "http://x");
        let o = p
            .create_order(OrderRequest {
                order_id: "O1".into(),
                amount: Fen(5000),
                subject: "t".into(),
            })
            .await
            .unwrap();
        assert_eq!(o.qr_payload, "http://x/pay/sandbox/O1");
        let (body, sig) = p.decide("O1", true).unwrap();
        let c = p.verify_notification(&body, &sig).unwrap();
        assert_eq!((c.amount, c.outcome), (Fen(5000), Outcome::Paid));
        // Same notice again: same transaction id.
        let (body2, _) = p.decide("O1", false).unwrap();
        assert_eq!(body, body2);
        let tampered = String::from_utf8(body).unwrap().replace("5000", "9000");
        assert_eq!(
            p.verify_notification(tampered.as_bytes(), &sig),
            Err(PaymentError::BadSignature)
        );
        let other = SandboxProvider::new(b"other", "http://x");
        assert_eq!(
            other.verify_notification(&body2, &sig),
            Err(PaymentError::BadSignature)
        );
        assert_eq!(
            p.query("nope".into()).await.unwrap(),
            ProviderState::Unknown
        );
    }
}
