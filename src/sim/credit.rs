//! The simulated meter's credit-token check: `protocol::credit` with the per-meter key
//! diversified from the site master key, exactly what a real meter's secure element does.

use super::meter::{CreditVerifier, VerifiedCredit};
use crate::protocol::credit::{CreditToken, diversify};

/// Verifies tokens for every meter with keys diversified from one site master key.
#[derive(Clone)]
pub struct MasterKeyVerifier {
    master: [u8; 16],
}

impl std::fmt::Debug for MasterKeyVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKeyVerifier(..)") // never print key material
    }
}

impl MasterKeyVerifier {
    pub fn new(master: [u8; 16]) -> MasterKeyVerifier {
        MasterKeyVerifier { master }
    }

    /// From 32 hex digits.
    pub fn from_hex(text: &str) -> Result<MasterKeyVerifier, String> {
        let bytes = hex::decode(text.trim()).map_err(|e| format!("credit master key: {e}"))?;
        let master: [u8; 16] = bytes
            .try_into()
            .map_err(|_| "credit master key must be 16 bytes (32 hex digits)".to_string())?;
        Ok(MasterKeyVerifier::new(master))
    }
}

impl CreditVerifier for MasterKeyVerifier {
    fn verify(
        &self,
        serial: &str,
        last_count: u32,
        token: &[u8],
    ) -> Result<VerifiedCredit, String> {
        let key = diversify(&self.master, serial).map_err(|e| e.to_string())?;
        let c = CreditToken::verify(&key, token, serial, last_count).map_err(|e| e.to_string())?;
        Ok(VerifiedCredit {
            kind: c.kind,
            amount: c.amount,
            purchase_count: c.purchase_count,
        })
    }
}
