//! Credit tokens: known answers for the 3DES, CBC, retail-MAC and key-diversification
//! primitives (docs/reference/test-vectors.md §1–§4: NIST SP 800-67, ISO/IEC 9797-1
//! Annex B, Bouncy Castle, ICAO 9303, and pycryptodome/OpenSSL computed vectors), and the
//! token's refusals: replay, skipped count, another meter, bad MAC, any flipped bit, garbage.

use proptest::prelude::*;
use voltvend::protocol::credit::*;
use voltvend::units::Fen;

use crate::support::bytes::hex as h;

fn h8(s: &str) -> [u8; 8] {
    h(s).try_into().unwrap()
}
fn h16(s: &str) -> [u8; 16] {
    h(s).try_into().unwrap()
}
fn h24(s: &str) -> [u8; 24] {
    h(s).try_into().unwrap()
}

const SP800_67_KEY: &str = "0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123";

#[test]
fn tdea_ecb_section_1() {
    // §1.1 NIST SP 800-67 example, three blocks ECB.
    let k = TdesKey::Three(h24(SP800_67_KEY));
    let pt = ["5468652071756663", "6B2062726F776E20", "666F78206A756D70"];
    let ct = ["A826FD8CE53B855F", "CCE21C8112256FE6", "68D5C05DD9B6B900"];
    for (p, c) in pt.iter().zip(ct) {
        assert_eq!(tdes_ecb_encrypt(&k, h8(p)), h8(c));
        assert_eq!(tdes_ecb_decrypt(&k, h8(c)), h8(p));
    }
    // §1.2 computed 3-key vectors.
    for (k, p, c) in [
        (
            "0123456789ABCDEF FEDCBA9876543210 89ABCDEF01234567",
            "0000000000000000",
            "3FD539E3ABEB8B5B",
        ),
        (
            "0001020304050607 08090A0B0C0D0E0F 1011121314151617",
            "0011223344556677",
            "97A25BA82B564F4C",
        ),
        (
            "2B7E151628AED2A6 ABF7158809CF4F3C A1B2C3D4E5F60718",
            "6BC1BEE22E409F96",
            "0365522D0A8C004C",
        ),
    ] {
        assert_eq!(tdes_ecb_encrypt(&TdesKey::Three(h24(k)), h8(p)), h8(c));
    }
    // §1.3 two-key.
    let k2 = TdesKey::Two(h16("0123456789ABCDEF FEDCBA9876543210"));
    assert_eq!(
        tdes_ecb_encrypt(&k2, h8("4E6F772069732074")),
        h8("D80A0D8B2BAE5E4E")
    );
    assert_eq!(
        tdes_ecb_encrypt(&k2, h8("0000000000001234")),
        h8("956C1C8D7447CCFB")
    );
}

#[test]
fn tdea_cbc_section_2() {
    let k = TdesKey::Three(h24(SP800_67_KEY));
    let iv = h8("1234567890ABCDEF");
    let pt = b"Prepaid token 0001 for A-101 OK!";
    let ct = h("FF26B8B127D5C52F 93501BEADCCF7D27 FC096EE03D3E8232 89D166F97139539C");
    assert_eq!(tdes_cbc_encrypt(&k, iv, pt).unwrap(), ct);
    assert_eq!(tdes_cbc_decrypt(&k, iv, &ct).unwrap(), pt);
    // §2.2 13 bytes with ISO/IEC 9797-1 padding method 2.
    let padded = pad(b"METER-1234:50", Padding::Method2);
    assert_eq!(padded, h("4D455445522D3132 33343A3530800000"));
    let ct = tdes_cbc_encrypt(&k, iv, &padded).unwrap();
    assert_eq!(ct, h("2FE68CDBFDDB4F54 18FCD2851B287C3B"));
    let back = tdes_cbc_decrypt(&k, iv, &ct).unwrap();
    assert_eq!(unpad_method2(&back), Some(&b"METER-1234:50"[..]));
    assert_eq!(
        tdes_cbc_encrypt(&k, iv, b"odd"),
        Err(CreditError::NotBlockAligned(3))
    );
}

#[test]
fn retail_mac_section_3() {
    use Padding::*;
    let cases: [(&str, &[u8], Padding, &str); 10] = [
        // §3.1 published
        (
            "0123456789ABCDEF FEDCBA9876543210",
            b"Now is the time for all ",
            Method1,
            "A1C72E74EA3FA9B6",
        ),
        (
            "0123456789ABCDEF FEDCBA9876543210",
            b"Now is the time for it",
            Method1,
            "2E2B1428CC78254F",
        ),
        (
            "7CA110454A1A6E57 0131D9619DC1376E",
            b"Hello World !!!!",
            Method1,
            "F09B856213BAB83B",
        ),
        (
            "7962D9ECE03D1ACD 4C76089DCE131543",
            &[
                0x72, 0xC2, 0x9C, 0x23, 0x71, 0xCC, 0x9B, 0xDB, 0x65, 0xB7, 0x79, 0xB8, 0xE8, 0xD3,
                0x7B, 0x29, 0xEC, 0xC1, 0x54, 0xAA, 0x56, 0xA8, 0x79, 0x9F, 0xAE, 0x2F, 0x49, 0x8F,
                0x76, 0xED, 0x92, 0xF2,
            ],
            Method2,
            "5F1448EEA8AD90A7",
        ),
        (
            "F1CB1F1FB5ADF208 806B89DC579DC1F8",
            &[
                0x88, 0x70, 0x22, 0x12, 0x0C, 0x06, 0xC2, 0x27, 0x0C, 0xA4, 0x02, 0x0C, 0x80, 0x00,
                0x00, 0x00, 0x87, 0x09, 0x01, 0x63, 0x75, 0x43, 0x29, 0x08, 0xC0, 0x44, 0xF6,
            ],
            Method2,
            "BF8B92D635FF24F8",
        ),
        // §3.2 computed
        (
            "0123456789ABCDEF FEDCBA9876543210",
            b"Now is the time for it",
            Method2,
            "5A692CE64F404145",
        ),
        (
            "1122334455667788 AABBCCDDEEFF0011",
            &[0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 1, 0x2C],
            Method1,
            "105898740EA46810",
        ),
        (
            "1122334455667788 AABBCCDDEEFF0011",
            &[0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 1, 0x2C],
            Method2,
            "3C1AC64A2C640F1C",
        ),
        (
            "1122334455667788 AABBCCDDEEFF0011",
            &[1, 2, 3, 4, 5, 6, 7, 8],
            Method2,
            "61BB76AB495B377E",
        ),
        (
            "1122334455667788 AABBCCDDEEFF0011",
            &[1, 2, 3, 4, 5, 6, 7, 8],
            Method1,
            "435729E6182C39B0",
        ),
    ];
    for (key, data, padding, mac) in cases {
        assert_eq!(
            retail_mac(&h16(key), data, padding),
            h8(mac),
            "key {key}, {padding:?}"
        );
    }
}

#[test]
fn key_diversification_section_4() {
    let mk = h16("0123456789ABCDEF FEDCBA9876543210");
    assert_eq!(
        serial_bytes("000000001234").unwrap(),
        [0, 0, 0, 0, 0x12, 0x34]
    );
    let dk = diversify(&mk, "000000001234").unwrap();
    assert_eq!(dk, h16("956C1C8D7447CCFB 39E037572F21BA26"));
    assert_eq!(kcv(&dk), [0x51, 0x1A, 0x71]);
    // Parity-adjusted form gives the same check value (DES ignores parity bits).
    assert_eq!(
        kcv(&h16("946D1C8C7546CDFB 38E037572F20BA26")),
        [0x51, 0x1A, 0x71]
    );
    assert!(diversify(&mk, "12345678901X").is_err());
    assert!(diversify(&mk, "1234567890123").is_err());
    assert_eq!(
        diversify(&mk, "1234").unwrap(),
        dk,
        "short serials are left-padded"
    );
}

fn setup() -> ([u8; 16], [u8; 32]) {
    let mk = h16("0123456789ABCDEF FEDCBA9876543210");
    let dk = diversify(&mk, "000000001234").unwrap();
    let at = jiff::Timestamp::from_second(1_795_000_000).unwrap();
    let token = CreditToken::issue(&dk, "000000001234", 8, Fen(10_000), at).unwrap();
    (dk, token)
}

#[test]
fn token_accepted_once() {
    let (dk, token) = setup();
    let c = CreditToken::verify(&dk, &token, "000000001234", 7).unwrap();
    assert_eq!(c.purchase_count, 8);
    assert_eq!(c.amount, Fen(10_000));
    assert_eq!(c.serial, "000000001234");
    assert_eq!(c.issued_at.as_second(), 1_795_000_000);
    // The meter moved on to count 8: the same token again is a replay.
    assert_eq!(
        CreditToken::verify(&dk, &token, "000000001234", 8),
        Err(CreditError::Replayed { count: 8, last: 8 })
    );
    assert_eq!(
        CreditToken::verify(&dk, &token, "000000001234", 6),
        Err(CreditError::OutOfSequence {
            count: 8,
            expected: 7
        })
    );
}

#[test]
fn token_for_another_meter_refused() {
    let mk = h16("0123456789ABCDEF FEDCBA9876543210");
    let (dk, token) = setup();
    // The other meter has its own key: the MAC fails.
    let other = diversify(&mk, "000000005678").unwrap();
    assert_eq!(
        CreditToken::verify(&other, &token, "000000005678", 7),
        Err(CreditError::BadMac)
    );
    // Even with a shared key, the serial inside is checked.
    assert!(matches!(
        CreditToken::verify(&dk, &token, "000000005678", 7),
        Err(CreditError::WrongMeter { .. })
    ));
}

#[test]
fn every_flipped_bit_refused() {
    let (dk, token) = setup();
    for i in 0..token.len() {
        for bit in 0..8 {
            let mut t = token;
            t[i] ^= 1 << bit;
            assert_eq!(
                CreditToken::verify(&dk, &t, "000000001234", 7),
                Err(CreditError::BadMac),
                "byte {i} bit {bit}"
            );
        }
    }
}

#[test]
fn garbage_and_bad_inputs_refused() {
    let (dk, token) = setup();
    assert_eq!(
        CreditToken::verify(&dk, &token[..31], "000000001234", 7),
        Err(CreditError::BadLength {
            expected: 32,
            got: 31
        })
    );
    assert_eq!(
        CreditToken::verify(&dk, &[0u8; 32], "000000001234", 7),
        Err(CreditError::BadMac)
    );
    let at = jiff::Timestamp::UNIX_EPOCH;
    assert_eq!(
        CreditToken::issue(&dk, "000000001234", 1, Fen(0), at),
        Err(CreditError::BadAmount(0))
    );
    assert_eq!(
        CreditToken::issue(&dk, "000000001234", 1, Fen(-5), at),
        Err(CreditError::BadAmount(-5))
    );
    assert!(CreditToken::issue(&dk, "abc", 1, Fen(5), at).is_err());
    // Two tokens differing only in count differ everywhere after CBC chaining.
    let t2 = CreditToken::issue(
        &dk,
        "000000001234",
        9,
        Fen(10_000),
        jiff::Timestamp::from_second(1_795_000_000).unwrap(),
    )
    .unwrap();
    assert_ne!(token[..8], t2[..8]);
    assert_ne!(token[16..24], t2[16..24]);
}

proptest! {
    #![proptest_config(crate::support::prop::config())]

    #[test]
    fn token_round_trip(serial in 0u64..1_000_000_000_000, count in 1u32..u32::MAX, amount in 1i64..=u32::MAX as i64, secs in 0i64..4_000_000_000) {
        let mk = [0x5Au8; 16];
        let serial = format!("{serial:012}");
        let dk = diversify(&mk, &serial).unwrap();
        let at = jiff::Timestamp::from_second(secs).unwrap();
        let t = CreditToken::issue(&dk, &serial, count, Fen(amount), at).unwrap();
        let c = CreditToken::verify(&dk, &t, &serial, count - 1).unwrap();
        prop_assert_eq!((c.purchase_count, c.amount, c.issued_at), (count, Fen(amount), at));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), last in any::<u32>()) {
        let dk = [7u8; 16];
        prop_assert!(CreditToken::verify(&dk, &bytes, "000000001234", last).is_err());
    }

    #[test]
    fn cbc_round_trip(key in any::<[u8; 24]>(), iv in any::<[u8; 8]>(), data in proptest::collection::vec(any::<u8>(), 0..100)) {
        let k = TdesKey::Three(key);
        let p = pad(&data, Padding::Method2);
        let ct = tdes_cbc_encrypt(&k, iv, &p).unwrap();
        let back = tdes_cbc_decrypt(&k, iv, &ct).unwrap();
        prop_assert_eq!(unpad_method2(&back), Some(&data[..]));
    }
}

#[test]
fn withdrawal_and_clear_tokens_carry_their_kind_and_share_the_purchase_sequence() {
    let (dk, credit) = setup();
    let at = jiff::Timestamp::from_second(1_795_000_000).unwrap();
    let s = "000000001234";
    assert_eq!(
        CreditToken::verify(&dk, &credit, s, 7).unwrap().kind,
        TokenKind::Credit
    );
    let w = CreditToken::issue_kind(&dk, s, 9, TokenKind::Withdraw, Fen(2_500), at).unwrap();
    let c = CreditToken::verify(&dk, &w, s, 8).unwrap();
    assert_eq!(
        (c.kind, c.amount, c.purchase_count),
        (TokenKind::Withdraw, Fen(2_500), 9)
    );
    let clear = CreditToken::issue_kind(&dk, s, 10, TokenKind::Clear, Fen::ZERO, at).unwrap();
    let c = CreditToken::verify(&dk, &clear, s, 9).unwrap();
    assert_eq!((c.kind, c.amount), (TokenKind::Clear, Fen::ZERO));
    // One sequence for every kind: a withdrawal with a used count is a replay.
    assert_eq!(
        CreditToken::verify(&dk, &w, s, 9),
        Err(CreditError::Replayed { count: 9, last: 9 })
    );
    // A clear names no amount; a withdrawal must.
    assert_eq!(
        CreditToken::issue_kind(&dk, s, 10, TokenKind::Clear, Fen(1), at),
        Err(CreditError::BadAmount(1))
    );
    assert_eq!(
        CreditToken::issue_kind(&dk, s, 10, TokenKind::Withdraw, Fen::ZERO, at),
        Err(CreditError::BadAmount(0))
    );
    // The kinds differ in the ciphertext: a credit is never read as a withdrawal.
    let as_credit = CreditToken::issue_kind(&dk, s, 9, TokenKind::Credit, Fen(2_500), at).unwrap();
    assert_ne!(as_credit, w);
}
