//! systemd service notifications (sd_notify): `READY=1` once the daemon serves, `WATCHDOG=1`
//! while it is healthy, `STOPPING=1` on the way out.
//!
//! Written by hand because the protocol is one datagram of text to the socket named in
//! `$NOTIFY_SOCKET` (a path, or an abstract name written `@name`); libsystemd is not linked
//! and no crate is needed for it. Outside systemd (`$NOTIFY_SOCKET` unset) every call is a
//! no-op.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Path(PathBuf),
    /// Linux abstract socket name (without the leading `@`).
    Abstract(Vec<u8>),
}

impl Target {
    /// Reads `$NOTIFY_SOCKET` syntax: `/run/systemd/notify` or `@name`.
    pub fn parse(text: &str) -> Option<Target> {
        if text.is_empty() {
            None
        } else if let Some(name) = text.strip_prefix('@') {
            Some(Target::Abstract(name.as_bytes().to_vec()))
        } else {
            Some(Target::Path(PathBuf::from(text)))
        }
    }
}

#[derive(Debug)]
pub struct Notifier {
    target: Target,
    sock: UnixDatagram,
}

impl Notifier {
    pub fn new(target: Target) -> io::Result<Notifier> {
        Ok(Notifier {
            target,
            sock: UnixDatagram::unbound()?,
        })
    }

    /// The notifier systemd asked for, if any.
    pub fn from_env() -> Option<Notifier> {
        let t = Target::parse(&std::env::var("NOTIFY_SOCKET").ok()?)?;
        match Notifier::new(t) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a socket for systemd notifications");
                None
            }
        }
    }

    /// Sends `state` (newline-separated `KEY=value` pairs).
    pub fn notify(&self, state: &str) -> io::Result<()> {
        match &self.target {
            Target::Path(p) => self.sock.send_to(state.as_bytes(), p).map(|_| ()),
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                self.sock.send_to_addr(state.as_bytes(), &addr).map(|_| ())
            }
        }
    }
}

/// How often to send `WATCHDOG=1`: half the watchdog timeout systemd set for this process
/// (`$WATCHDOG_USEC`, and `$WATCHDOG_PID` when given must be this process).
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>) -> Option<Duration> {
    if let Some(p) = pid
        && p.parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    let us: u64 = usec?.parse().ok().filter(|u| *u > 0)?;
    Some(Duration::from_micros(us / 2))
}

/// [`watchdog_interval`] from this process's environment.
pub fn watchdog_from_env() -> Option<Duration> {
    watchdog_interval(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_reaches_a_path_socket() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).expect("bind");
        let n = Notifier::new(Target::parse(path.to_str().expect("utf8")).expect("target"))
            .expect("notifier");
        n.notify("READY=1\nSTATUS=serving").expect("send");
        let mut buf = [0u8; 64];
        let len = rx.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=serving");
    }

    #[test]
    fn a_datagram_reaches_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("voltvend-notify-test-{}", std::process::id());
        let addr =
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("addr");
        let rx = UnixDatagram::bind_addr(&addr).expect("bind");
        let n =
            Notifier::new(Target::parse(&format!("@{name}")).expect("target")).expect("notifier");
        n.notify("WATCHDOG=1").expect("send");
        let mut buf = [0u8; 16];
        let len = rx.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..len], b"WATCHDOG=1");
    }

    #[test]
    fn watchdog_is_half_the_timeout_and_only_for_this_process() {
        let me = std::process::id().to_string();
        assert_eq!(
            watchdog_interval(Some("30000000"), Some(&me)),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_interval(Some("30000000"), None),
            Some(Duration::from_secs(15))
        );
        assert_eq!(watchdog_interval(Some("30000000"), Some("1")), None);
        assert_eq!(watchdog_interval(None, None), None);
        assert_eq!(watchdog_interval(Some("0"), None), None);
        assert_eq!(watchdog_interval(Some("x"), None), None);
        assert_eq!(Target::parse(""), None);
    }
}
