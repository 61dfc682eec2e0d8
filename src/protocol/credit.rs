//! Secure credit tokens for `meter`-mode prepaid meters (issue 4 item 4).
//!
//! A sale pushes a 32-byte token to the meter. The meter holds its own key, diversified from
//! the site master key, checks the MAC, decrypts, and accepts the credit only if the token
//! names its serial and the purchase count is exactly its last count + 1. The format is in
//! docs/credit-token.md. Primitives (all TDEA via the `des` crate, CBC via `cbc`):
//!
//! - [`diversify`]: EMV-style per-meter key, left = 3DES(MK, S), right = 3DES(MK, ~S)
//!   (test-vectors §4).
//! - [`tdes_ecb_encrypt`], [`tdes_cbc_encrypt`] / [`tdes_cbc_decrypt`] (§1, §2).
//! - [`retail_mac`]: ISO/IEC 9797-1 MAC algorithm 3 with DES, IV 0 (§3).
//!
//! Pure functions: no I/O, and every bad input is an error value, never a panic.

use cipher::{BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt};
use cipher::{KeyInit, KeyIvInit};
use des::{Des, TdesEde2, TdesEde3};
use retail_mac::{Mac, RetailMac};
use subtle::ConstantTimeEq;

use crate::protocol::bcd;
use crate::units::Fen;

/// Why a token or key operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    #[error("token is {got} bytes, expected {expected}")]
    BadLength { expected: usize, got: usize },
    #[error("token MAC does not verify (tampered, corrupted, or made with another key)")]
    BadMac,
    #[error("token format version {0} is not supported")]
    BadVersion(u8),
    #[error("token is for meter {got}, this is meter {expected}")]
    WrongMeter { expected: String, got: String },
    #[error("token purchase count {count} was already used (meter's last count is {last})")]
    Replayed { count: u32, last: u32 },
    #[error("token purchase count {count} skips ahead (meter expects {expected})")]
    OutOfSequence { count: u32, expected: u32 },
    #[error("meter serial '{0}' is not 1 to 12 decimal digits")]
    BadSerial(String),
    #[error("credit amount {0} fen is out of range 1..=4294967295")]
    BadAmount(i64),
    #[error("data of {0} bytes is not a whole number of 8-byte blocks")]
    NotBlockAligned(usize),
    #[error("issue time out of range")]
    BadTime,
}

/// A 3DES key: two-key (K1 K2 K1, keying option 2) or three-key (keying option 1).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TdesKey {
    Two([u8; 16]),
    Three([u8; 24]),
}

impl std::fmt::Debug for TdesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str(match self {
            TdesKey::Two(_) => "TdesKey::Two(..)",
            TdesKey::Three(_) => "TdesKey::Three(..)",
        })
    }
}

fn to_block(b: [u8; 8]) -> cipher::Block<Des> {
    b.into()
}

fn from_block(b: &cipher::Block<Des>) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(b.as_slice());
    out
}

/// One 3DES-ECB block encryption.
pub fn tdes_ecb_encrypt(key: &TdesKey, block: [u8; 8]) -> [u8; 8] {
    let mut b = to_block(block);
    match key {
        TdesKey::Two(k) => TdesEde2::new(&(*k).into()).encrypt_block(&mut b),
        TdesKey::Three(k) => TdesEde3::new(&(*k).into()).encrypt_block(&mut b),
    }
    from_block(&b)
}

/// One 3DES-ECB block decryption.
pub fn tdes_ecb_decrypt(key: &TdesKey, block: [u8; 8]) -> [u8; 8] {
    let mut b = to_block(block);
    match key {
        TdesKey::Two(k) => TdesEde2::new(&(*k).into()).decrypt_block(&mut b),
        TdesKey::Three(k) => TdesEde3::new(&(*k).into()).decrypt_block(&mut b),
    }
    from_block(&b)
}

fn blocks(data: &[u8]) -> Result<Vec<cipher::Block<Des>>, CreditError> {
    if !data.len().is_multiple_of(8) {
        return Err(CreditError::NotBlockAligned(data.len()));
    }
    Ok(data
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            to_block(b)
        })
        .collect())
}

fn unblocks(blocks: &[cipher::Block<Des>]) -> Vec<u8> {
    blocks.iter().flat_map(from_block).collect()
}

/// 3DES-CBC encryption of whole blocks (no padding is added: pad first, see [`pad`]).
pub fn tdes_cbc_encrypt(key: &TdesKey, iv: [u8; 8], data: &[u8]) -> Result<Vec<u8>, CreditError> {
    let mut b = blocks(data)?;
    let iv = iv.into();
    match key {
        TdesKey::Two(k) => {
            cbc::Encryptor::<TdesEde2>::new(&(*k).into(), &iv).encrypt_blocks(&mut b)
        }
        TdesKey::Three(k) => {
            cbc::Encryptor::<TdesEde3>::new(&(*k).into(), &iv).encrypt_blocks(&mut b)
        }
    }
    Ok(unblocks(&b))
}

/// 3DES-CBC decryption of whole blocks.
pub fn tdes_cbc_decrypt(key: &TdesKey, iv: [u8; 8], data: &[u8]) -> Result<Vec<u8>, CreditError> {
    let mut b = blocks(data)?;
    let iv = iv.into();
    match key {
        TdesKey::Two(k) => {
            cbc::Decryptor::<TdesEde2>::new(&(*k).into(), &iv).decrypt_blocks(&mut b)
        }
        TdesKey::Three(k) => {
            cbc::Decryptor::<TdesEde3>::new(&(*k).into(), &iv).decrypt_blocks(&mut b)
        }
    }
    Ok(unblocks(&b))
}

/// ISO/IEC 9797-1 padding methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Method 1: zeros up to a block boundary (none if already aligned and non-empty).
    Method1,
    /// Method 2: 0x80 then zeros; always adds at least one byte.
    Method2,
}

/// Pads `data` to a multiple of 8 bytes.
pub fn pad(data: &[u8], padding: Padding) -> Vec<u8> {
    let mut out = data.to_vec();
    match padding {
        Padding::Method1 => {
            if out.is_empty() {
                out.resize(8, 0);
            }
        }
        Padding::Method2 => out.push(0x80),
    }
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    out
}

/// Removes ISO/IEC 9797-1 method 2 padding; `None` if it is malformed.
pub fn unpad_method2(data: &[u8]) -> Option<&[u8]> {
    let end = data.iter().rposition(|&b| b != 0)?;
    (data[end] == 0x80 && data.len() - end <= 8).then_some(&data[..end])
}

/// ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC", ANSI X9.19): DES-CBC-MAC with K1 over the
/// padded data (IV 0), then output transformation 3: encrypt(K1, decrypt(K2, H)).
///
/// The `retail-mac` crate computes it; the data is padded here first, because the crate only
/// zero-pads a partial last block (method 1 without the empty-message rule, and no method 2).
pub fn retail_mac(key: &[u8; 16], data: &[u8], padding: Padding) -> [u8; 8] {
    let mut mac = RetailMac::<Des>::new(key.into());
    mac.update(&pad(data, padding));
    mac.finalize().into_bytes().into()
}

/// Compares MACs in constant time (`subtle`), so timing does not reveal how many bytes matched.
pub fn mac_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Meter serial → 6 BCD bytes, most significant first ("000000001234" → 00 00 00 00 12 34).
/// Shorter serials are left-padded with zeros.
pub fn serial_bytes(serial: &str) -> Result<[u8; 6], CreditError> {
    let s = serial.trim();
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CreditError::BadSerial(serial.to_string()));
    }
    let n: u64 = s
        .parse()
        .map_err(|_| CreditError::BadSerial(serial.to_string()))?;
    let le = bcd::encode_le(n, 6).map_err(|_| CreditError::BadSerial(serial.to_string()))?;
    let mut out = [0u8; 6];
    for (i, b) in le.iter().rev().enumerate() {
        out[i] = *b;
    }
    Ok(out)
}

fn serial_text(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Per-meter key from the site master key (EMV-style; test-vectors §4): S = serial as 6 BCD
/// bytes left-padded with 00 to 8; left = 3DES_ECB(MK, S), right = 3DES_ECB(MK, ~S). Parity
/// bits are left as computed (DES ignores them).
pub fn diversify(master: &[u8; 16], serial: &str) -> Result<[u8; 16], CreditError> {
    let mut s = [0u8; 8];
    s[2..].copy_from_slice(&serial_bytes(serial)?);
    let not_s = s.map(|b| !b);
    let mk = TdesKey::Two(*master);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&tdes_ecb_encrypt(&mk, s));
    out[8..].copy_from_slice(&tdes_ecb_encrypt(&mk, not_s));
    Ok(out)
}

/// Key check value: the first 3 bytes of 3DES_ECB(key, 00..00), to compare keys by phone.
pub fn kcv(key: &[u8; 16]) -> [u8; 3] {
    let e = tdes_ecb_encrypt(&TdesKey::Two(*key), [0; 8]);
    [e[0], e[1], e[2]]
}

/// Encryption and MAC keys derived from the meter key by fixed variants (ANSI X9.24-style
/// key variants) so one key is never used for two purposes.
/// The token's purpose keys from the meter key DK: a three-key TDEA bundle (keying
/// option 1: K1 ‖ K2 = DK ⊕ 11…11, K3 = 3DES_ECB(DK, 33…33), three different keys) for
/// the encryption, and DK ⊕ 22…22 for the retail MAC (which is two-key by definition).
fn token_keys(meter_key: &[u8; 16]) -> (TdesKey, [u8; 16]) {
    let mut enc = [0u8; 24];
    enc[..16].copy_from_slice(&meter_key.map(|b| b ^ 0x11));
    enc[16..].copy_from_slice(&tdes_ecb_encrypt(&TdesKey::Two(*meter_key), [0x33; 8]));
    let mac = meter_key.map(|b| b ^ 0x22);
    (TdesKey::Three(enc), mac)
}

/// Token layout (docs/credit-token.md).
pub const TOKEN_LEN: usize = 32;
pub const TOKEN_VERSION: u8 = 0x01;
const PLAIN_LEN: usize = 24;

/// What a token tells the meter to do with its balance (plain byte 15, docs/credit-token.md).
/// Every kind takes the next purchase count, so the meter's one sequence orders credits,
/// withdrawals and clears alike and refuses any replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Add the amount (a sale).
    Credit,
    /// Take the amount off; refused by the meter if its balance is below it (a refund).
    Withdraw,
    /// Set the balance to zero, whatever it is (an account closed); the amount is 0.
    Clear,
}

impl TokenKind {
    fn byte(self) -> u8 {
        match self {
            TokenKind::Credit => 0,
            TokenKind::Withdraw => 1,
            TokenKind::Clear => 2,
        }
    }

    fn from_byte(b: u8) -> Option<TokenKind> {
        match b {
            0 => Some(TokenKind::Credit),
            1 => Some(TokenKind::Withdraw),
            2 => Some(TokenKind::Clear),
            _ => None,
        }
    }
}

/// A verified credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// 12 digits.
    pub serial: String,
    pub purchase_count: u32,
    pub kind: TokenKind,
    /// Fen; 0 for a clear.
    pub amount: Fen,
    pub issued_at: jiff::Timestamp,
}

/// Issue and verify credit tokens.
pub struct CreditToken;

impl CreditToken {
    /// Makes the token for `serial`'s `purchase_count`-th purchase of `amount`.
    /// `meter_key` is the per-meter key from [`diversify`].
    pub fn issue(
        meter_key: &[u8; 16],
        serial: &str,
        purchase_count: u32,
        amount: Fen,
        issued_at: jiff::Timestamp,
    ) -> Result<[u8; TOKEN_LEN], CreditError> {
        Self::issue_kind(
            meter_key,
            serial,
            purchase_count,
            TokenKind::Credit,
            amount,
            issued_at,
        )
    }

    /// Makes a token of any kind; a clear carries amount 0, the others 1 ..= u32::MAX fen.
    pub fn issue_kind(
        meter_key: &[u8; 16],
        serial: &str,
        purchase_count: u32,
        kind: TokenKind,
        amount: Fen,
        issued_at: jiff::Timestamp,
    ) -> Result<[u8; TOKEN_LEN], CreditError> {
        let amount_u32 = u32::try_from(amount.0)
            .ok()
            .filter(|a| (*a == 0) == (kind == TokenKind::Clear))
            .ok_or(CreditError::BadAmount(amount.0))?;
        let mut plain = [0u8; PLAIN_LEN];
        plain[0..4].copy_from_slice(&purchase_count.to_be_bytes());
        plain[4..8].copy_from_slice(&amount_u32.to_be_bytes());
        plain[8..14].copy_from_slice(&serial_bytes(serial)?);
        plain[14] = TOKEN_VERSION;
        plain[15] = kind.byte();
        plain[16..24].copy_from_slice(&issued_at.as_second().to_be_bytes());
        let (enc, mac_key) = token_keys(meter_key);
        let ct = tdes_cbc_encrypt(&enc, [0; 8], &plain)?;
        let mac = retail_mac(&mac_key, &ct, Padding::Method2);
        let mut token = [0u8; TOKEN_LEN];
        token[..PLAIN_LEN].copy_from_slice(&ct);
        token[PLAIN_LEN..].copy_from_slice(&mac);
        Ok(token)
    }

    /// What a meter does with a token: refuses a bad MAC, another meter's token, a replayed
    /// or skipped purchase count (it must be exactly `last_count + 1`), and garbage.
    pub fn verify(
        meter_key: &[u8; 16],
        token: &[u8],
        expected_serial: &str,
        last_count: u32,
    ) -> Result<Credit, CreditError> {
        if token.len() != TOKEN_LEN {
            return Err(CreditError::BadLength {
                expected: TOKEN_LEN,
                got: token.len(),
            });
        }
        let (enc, mac_key) = token_keys(meter_key);
        let (ct, mac) = token.split_at(PLAIN_LEN);
        if !mac_eq(&retail_mac(&mac_key, ct, Padding::Method2), mac) {
            return Err(CreditError::BadMac);
        }
        let plain = tdes_cbc_decrypt(&enc, [0; 8], ct)?;
        let kind = match TokenKind::from_byte(plain[15]) {
            Some(k) if plain[14] == TOKEN_VERSION => k,
            _ => return Err(CreditError::BadVersion(plain[14])),
        };
        let mine = serial_bytes(expected_serial)?;
        if plain[8..14] != mine {
            return Err(CreditError::WrongMeter {
                expected: serial_text(&mine),
                got: serial_text(&plain[8..14]),
            });
        }
        let be4 =
            |i: usize| u32::from_be_bytes([plain[i], plain[i + 1], plain[i + 2], plain[i + 3]]);
        let count = be4(0);
        let amount = be4(4);
        let expected = last_count.checked_add(1);
        if Some(count) != expected {
            return Err(if count <= last_count {
                CreditError::Replayed {
                    count,
                    last: last_count,
                }
            } else {
                CreditError::OutOfSequence {
                    count,
                    expected: expected.unwrap_or(u32::MAX),
                }
            });
        }
        if (amount == 0) != (kind == TokenKind::Clear) {
            return Err(CreditError::BadAmount(i64::from(amount)));
        }
        let mut secs = [0u8; 8];
        secs.copy_from_slice(&plain[16..24]);
        let issued_at = jiff::Timestamp::from_second(i64::from_be_bytes(secs))
            .map_err(|_| CreditError::BadTime)?;
        Ok(Credit {
            serial: serial_text(&mine),
            purchase_count: count,
            kind,
            amount: Fen(i64::from(amount)),
            issued_at,
        })
    }
}
