//! Credit token verification on arbitrary bytes: never panics, never accepts a forgery.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voltvend::protocol::credit::CreditToken;

fuzz_target!(|data: &[u8]| {
    let key = [0x3Cu8; 16];
    let last = data.first().copied().unwrap_or(0) as u32;
    // Random bytes must never pass the MAC (probability 2^-64).
    assert!(CreditToken::verify(&key, data, "000000001234", last).is_err());
});
