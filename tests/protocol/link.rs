//! Secure gateway link: frames survive the trip, and nothing replayed, reordered, truncated,
//! reflected, tampered or from an older session is ever accepted.

use proptest::prelude::*;
use voltvend::protocol::link::*;

const MK: [u8; 16] = *b"site-master-key!";

fn pair(ng: u8, ns: u8) -> (LinkSession, LinkSession) {
    let mut g = LinkSession::new(MK, Role::Gateway, [ng; 8]);
    let mut s = LinkSession::new(MK, Role::Server, [ns; 8]);
    let gh = g.hello();
    let sh = s.hello();
    assert_eq!(frame_len(&gh).unwrap(), Some(gh.len()));
    s.accept_hello(&gh).unwrap();
    g.accept_hello(&sh).unwrap();
    (g, s)
}

const RTU: &[u8] = &[0x05, 0x03, 0x00, 0x00, 0x00, 0x11, 0x84, 0x42];

#[test]
fn payloads_cross_both_ways() {
    let (mut g, mut s) = pair(1, 2);
    let f = s.seal(RTU).unwrap();
    assert_eq!(frame_len(&f).unwrap(), Some(f.len()));
    assert_eq!(g.open(&f).unwrap(), RTU);
    let reply = g.seal(b"reply").unwrap();
    assert_eq!(s.open(&reply).unwrap(), b"reply");
    // An empty payload still makes one padded block.
    let e = s.seal(&[]).unwrap();
    assert_eq!(g.open(&e).unwrap(), Vec::<u8>::new());
    assert_eq!(g.stats.accepted, 2);
}

#[test]
fn replay_and_reorder_refused_gaps_allowed() {
    let (mut g, mut s) = pair(3, 4);
    let f1 = s.seal(b"one").unwrap();
    let f2 = s.seal(b"two").unwrap();
    let f3 = s.seal(b"three").unwrap();
    assert_eq!(g.open(&f2).unwrap(), b"two"); // f1 lost: gap is fine
    assert_eq!(g.open(&f1), Err(LinkError::Replayed { seq: 1, last: 2 }));
    assert_eq!(g.open(&f2), Err(LinkError::Replayed { seq: 2, last: 2 }));
    assert_eq!(g.open(&f3).unwrap(), b"three");
    assert_eq!(g.stats.replayed, 2);
}

#[test]
fn every_flipped_bit_and_truncation_refused() {
    let (mut g, mut s) = pair(5, 6);
    let f = s.seal(RTU).unwrap();
    for i in 0..f.len() {
        for bit in 0..8 {
            let mut t = f.clone();
            t[i] ^= 1 << bit;
            assert!(g.open(&t).is_err(), "byte {i} bit {bit} accepted");
        }
    }
    for cut in 0..f.len() {
        assert!(g.open(&f[..cut]).is_err(), "cut {cut} accepted");
    }
    // Nothing refused moved the counter: the genuine frame still opens.
    assert_eq!(g.open(&f).unwrap(), RTU);
    assert!(g.stats.tampered > 0 && g.stats.malformed > 0);
}

#[test]
fn reflected_frames_refused() {
    let (mut g, _s) = pair(7, 8);
    let own = g.seal(b"x").unwrap();
    assert!(g.open(&own).is_err());
    // A hello with our own role is a reflection too.
    let mut g2 = LinkSession::new(MK, Role::Gateway, [9; 8]);
    assert_eq!(g2.accept_hello(&g.hello()), Err(LinkError::Reflected));
}

#[test]
fn new_connection_rekeys_old_frames_refused() {
    let (mut g, mut s) = pair(10, 11);
    let old = s.seal(b"old session").unwrap();
    assert_eq!(g.open(&old).unwrap(), b"old session");
    // Reconnect with fresh nonces: frames recorded from the old session are worthless, even
    // though the new session's counters start again at 1.
    let (mut g2, _s2) = pair(10, 12);
    assert_eq!(g2.open(&old), Err(LinkError::BadMac));
}

#[test]
fn wrong_key_and_no_session_refused() {
    let mut other = LinkSession::new(*b"another-key-0000", Role::Server, [1; 8]);
    let g = LinkSession::new(MK, Role::Gateway, [2; 8]);
    assert_eq!(other.accept_hello(&g.hello()), Err(LinkError::BadMac));
    let mut fresh = LinkSession::new(MK, Role::Server, [3; 8]);
    assert_eq!(fresh.seal(b"x"), Err(LinkError::NotEstablished));
    assert!(fresh.open(&[0, 26, b'D']).is_err());
    let (_, mut s) = pair(1, 1);
    assert_eq!(s.seal(&[0; 1025]), Err(LinkError::TooLarge(1025)));
}

proptest! {
    #![proptest_config(crate::support::prop::config())]

    #[test]
    fn round_trip(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8), ng in any::<[u8; 8]>(), ns in any::<[u8; 8]>()) {
        let mut g = LinkSession::new(MK, Role::Gateway, ng);
        let mut s = LinkSession::new(MK, Role::Server, ns);
        s.accept_hello(&g.hello()).unwrap();
        g.accept_hello(&s.hello()).unwrap();
        for p in &payloads {
            let f = g.seal(p).unwrap();
            prop_assert_eq!(&s.open(&f).unwrap(), p);
        }
    }

    #[test]
    fn garbage_never_panics_or_opens(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (mut g, _) = pair(1, 2);
        prop_assert!(g.open(&bytes).is_err());
        let _ = frame_len(&bytes);
        let mut fresh = LinkSession::new(MK, Role::Server, [0; 8]);
        let _ = fresh.accept_hello(&bytes);
    }
}
