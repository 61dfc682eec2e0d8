//! Free TCP ports on 127.0.0.1 for simulated gateways, the demo and tests.
//!
//! They are chosen below the kernel's ephemeral range (Linux: 32768 and up) and bound
//! later by whoever serves on them. A port from `bind(0)` is ephemeral: once released,
//! any outgoing connection may take it as its local port before the server binds it (seen
//! in CI: the demo's secure gateway port was taken, and its bus was skipped).

use std::net::TcpListener;

const LOW: u16 = 20_000;
const HIGH: u16 = 32_768;

/// `n` consecutive TCP ports on 127.0.0.1 that were free just now; the first is returned
/// (bus N of a gateway on port + N − 1).
pub fn free_tcp_ports(n: u16) -> std::io::Result<u16> {
    for _ in 0..200 {
        let base = rand::random_range(LOW..HIGH.saturating_sub(n.max(1)));
        if (0..n.max(1)).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return Ok(base);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no run of {n} free TCP ports on 127.0.0.1 between {LOW} and {HIGH}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_below_the_ephemeral_range_and_bindable() {
        let base = free_tcp_ports(3).expect("ports");
        assert!((LOW..HIGH - 3).contains(&base), "{base}");
        for i in 0..3 {
            TcpListener::bind(("127.0.0.1", base + i)).expect("still free");
        }
    }
}
