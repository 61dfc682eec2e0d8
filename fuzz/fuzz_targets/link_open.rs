//! Secure link: arbitrary frames never panic and are never accepted by an established
//! session; arbitrary hellos never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voltvend::protocol::link::{LinkSession, Role, frame_len};

fuzz_target!(|data: &[u8]| {
    let mk = [0x5Au8; 16];
    let mut g = LinkSession::new(mk, Role::Gateway, [1; 8]);
    let mut s = LinkSession::new(mk, Role::Server, [2; 8]);
    let _ = frame_len(data);
    let _ = LinkSession::new(mk, Role::Server, [3; 8]).accept_hello(data);
    s.accept_hello(&g.hello()).expect("own hello");
    g.accept_hello(&s.hello()).expect("own hello");
    assert!(g.open(data).is_err());
});
