//! Receipt signatures: HMAC-SHA256 over the receipt's identifying fields, so the QR code on
//! paper (`/r/{receipt}?sig=…`) can be checked by anyone with a phone against the appliance.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies receipt numbers with the site's receipt key.
#[derive(Clone)]
pub struct ReceiptSigner {
    key: Vec<u8>,
}

impl ReceiptSigner {
    pub fn new(key: &[u8]) -> ReceiptSigner {
        ReceiptSigner { key: key.to_vec() }
    }

    /// The signed message: receipt number, tenant and amount in fen, NUL-separated, so a
    /// signature for one receipt cannot be moved to another with a different amount.
    fn mac(&self, receipt_no: &str, tenant: &str, amount_fen: i64) -> HmacSha256 {
        // HMAC accepts keys of any length; new_from_slice cannot fail for it.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes any key length"),
        };
        mac.update(receipt_no.as_bytes());
        mac.update(&[0]);
        mac.update(tenant.as_bytes());
        mac.update(&[0]);
        mac.update(amount_fen.to_string().as_bytes());
        mac
    }

    /// The hex signature, truncated to 128 bits to keep the QR code small (RFC 2104 §5
    /// allows truncation to no less than half the hash length).
    pub fn sign(&self, receipt_no: &str, tenant: &str, amount_fen: i64) -> String {
        let tag = self
            .mac(receipt_no, tenant, amount_fen)
            .finalize()
            .into_bytes();
        hex::encode(&tag[..16])
    }

    /// Constant-time check of a hex signature.
    pub fn verify(&self, receipt_no: &str, tenant: &str, amount_fen: i64, sig_hex: &str) -> bool {
        let Ok(sig) = hex::decode(sig_hex.trim()) else {
            return false;
        };
        if sig.len() != 16 {
            return false;
        }
        self.mac(receipt_no, tenant, amount_fen)
            .verify_truncated_left(&sig)
            .is_ok()
    }

    /// The verification URL printed in the QR code.
    pub fn url(&self, base: &str, receipt_no: &str, tenant: &str, amount_fen: i64) -> String {
        format!(
            "{}/r/{}?sig={}",
            base.trim_end_matches('/'),
            receipt_no,
            self.sign(receipt_no, tenant, amount_fen)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signature_binds_receipt_tenant_and_amount() {
        let s = ReceiptSigner::new(b"site key");
        let sig = s.sign("R000001", "T0001", 5000);
        assert!(s.verify("R000001", "T0001", 5000, &sig));
        assert!(!s.verify("R000002", "T0001", 5000, &sig));
        assert!(!s.verify("R000001", "T0002", 5000, &sig));
        assert!(!s.verify("R000001", "T0001", 50000, &sig));
        assert!(!s.verify("R000001", "T0001", 5000, "zz"));
        assert!(!ReceiptSigner::new(b"other").verify("R000001", "T0001", 5000, &sig));
    }
}
