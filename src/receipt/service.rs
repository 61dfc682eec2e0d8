//! Issuing and printing receipts: the record is stored first, then printed; the outcome of
//! printing is written back to the record so the tenant and staff see it, and a failed
//! print never touches the sale.

use super::printer::{PrintError, PrinterTarget};
use super::record::{self, PrintStatus, ReceiptRecord};
use super::render::render;
use super::sign::ReceiptSigner;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Receipt settings and the printer.
#[derive(Clone)]
pub struct Receipts {
    pub signer: ReceiptSigner,
    pub printer: PrinterTarget,
    /// Base of the verification URL, e.g. `http://192.168.1.10:8080`.
    pub public_url: String,
    /// One job at a time: a thermal printer interleaving two receipts is useless.
    lock: Arc<Mutex<()>>,
}

impl Receipts {
    pub fn new(signer: ReceiptSigner, printer: PrinterTarget, public_url: &str) -> Receipts {
        Receipts {
            signer,
            printer,
            public_url: public_url.trim_end_matches('/').to_string(),
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// The receipt number of a ledger sale: `R` + the operation id, so every receipt
    /// points at exactly one ledger operation and a replayed confirmation finds the same.
    pub fn number_for_op(op: u64) -> String {
        format!("R{op:08}")
    }

    pub fn sign(&self, r: &ReceiptRecord) -> String {
        self.signer.sign(&r.receipt_no, &r.tenant, r.amount_fen)
    }

    pub fn verify_url(&self, r: &ReceiptRecord) -> String {
        self.signer
            .url(&self.public_url, &r.receipt_no, &r.tenant, r.amount_fen)
    }

    /// Whether `sig` is genuine for the stored receipt `no`.
    pub fn verify(&self, r: &ReceiptRecord, sig: &str) -> bool {
        self.signer
            .verify(&r.receipt_no, &r.tenant, r.amount_fen, sig)
    }

    /// Prints receipt `no` and records the outcome. Returns the new print status.
    pub async fn print(&self, store: &Store, no: &str) -> Result<PrintStatus, StoreError> {
        let Some(mut r) = record::get(store, no)? else {
            return Ok(PrintStatus::Failed {
                at: jiff::Timestamp::now().to_string(),
                reason: format!("no receipt {no}"),
            });
        };
        let url = self.verify_url(&r);
        let outcome = match render(&r, &url) {
            Ok(bytes) => {
                let _one = self.lock.lock().await;
                self.printer.print(&r.receipt_no, &bytes).await
            }
            Err(e) => Err(PrintError::Offline(e.to_string())),
        };
        let at = jiff::Timestamp::now().to_string();
        r.print = match outcome {
            Ok(()) => {
                r.prints += 1;
                PrintStatus::Printed { at }
            }
            Err(e) => {
                tracing::warn!(receipt = %r.receipt_no, error = %e, "receipt not printed");
                PrintStatus::Failed {
                    at,
                    reason: e.to_string(),
                }
            }
        };
        record::put_async(store, &r).await?;
        Ok(r.print)
    }
}
