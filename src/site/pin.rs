//! Tenant kiosk PINs: 4 to 8 digits, stored only as an argon2id PHC string. The kiosk's
//! lockout after failed attempts lives with the tenant login, not here.

use super::model::Tenant;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Why a PIN cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("a PIN is 4 to 8 digits")]
    Format,
    #[error("the PIN could not be hashed: {0}")]
    Hash(String),
}

/// Checks the PIN's form: 4 to 8 ASCII digits.
pub fn check_pin_format(pin: &str) -> Result<(), PinError> {
    if (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::Format)
    }
}

/// Hashes `pin` with argon2id and a fresh random salt.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    check_pin_format(pin)?;
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PinError::Hash(e.to_string()))
}

/// Sets the tenant's PIN (the caller stores the tenant with `repo::upsert_tenant`).
pub fn set_pin(tenant: &mut Tenant, pin: &str) -> Result<(), PinError> {
    tenant.pin_hash = Some(hash_pin(pin)?);
    Ok(())
}

/// True if `pin` matches the tenant's stored PIN; false if it does not or none is set.
pub fn verify_pin(tenant: &Tenant, pin: &str) -> bool {
    match &tenant.pin_hash {
        Some(hash) => Argon2::default()
            .verify_password(pin.as_bytes(), hash.as_str())
            .is_ok(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::model::TenantId;

    #[test]
    fn pin_round_trip() {
        let mut t = Tenant {
            id: TenantId::from("T1"),
            name: "Noodle bar".into(),
            category: "restaurant".into(),
            phone: None,
            units: vec![],
            pin_hash: None,
        };
        assert!(!verify_pin(&t, "1234"));
        assert_eq!(set_pin(&mut t, "12a4"), Err(PinError::Format));
        assert_eq!(set_pin(&mut t, "123"), Err(PinError::Format));
        set_pin(&mut t, "482913").unwrap();
        let hash = t.pin_hash.clone().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("482913"));
        assert!(verify_pin(&t, "482913"));
        assert!(!verify_pin(&t, "482914"));
    }
}
