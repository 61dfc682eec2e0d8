//! Where a bus is reached: a local serial port, a Modbus TCP gateway, or a serial server
//! that carries raw RTU (or DL/T 645) bytes over TCP.
//!
//! Text form (used by `voltvend read --via`, the site model's gateway link and the config):
//! `serial:/dev/ttyUSB0[@9600[,8E1]]`, `tcp:HOST:PORT`, `rtu-over-tcp:HOST:PORT`.

use std::fmt;
use std::str::FromStr;

pub use crate::protocol::serial::{Framing, Parity};
use crate::site::model::GatewayLink;

/// A parsed `--via` / gateway link.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Via {
    Serial {
        path: String,
        baud: u32,
        framing: Framing,
    },
    /// Modbus TCP (MBAP header); the gateway forwards to its RS-485 bus.
    Tcp { host: String, port: u16 },
    /// A transparent serial server: raw RTU / DL/T 645 bytes inside a TCP stream.
    RtuOverTcp { host: String, port: u16 },
    /// Bus `bus` of a `voltvend gateway` box that dials our secure link listener on
    /// `host:port` (see `field::secure`); raw bus bytes inside sealed frames.
    Secure {
        host: String,
        port: u16,
        gateway: String,
        bus: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "'{0}' is not a link: use tcp:HOST:PORT, rtu-over-tcp:HOST:PORT or serial:/dev/ttyX[@9600[,8E1]]"
    )]
    Scheme(String),
    #[error("'{0}' has no valid HOST:PORT (port 1-65535)")]
    HostPort(String),
    #[error("'{0}' is not a baud rate (a number from 300 to 921600)")]
    Baud(String),
    #[error("{0}")]
    Framing(String),
    #[error(
        "'{0}' is a secure gateway link; `voltvend read` and the collector speak to plain links only"
    )]
    Secure(String),
}

pub const DEFAULT_BAUD: u32 = 9600;

/// The framing assumed when a serial link does not say (the site model's default too).
pub const DEFAULT_FRAMING: Framing = Framing::N81;

fn host_port(whole: &str, rest: &str) -> Result<(String, u16), LinkError> {
    let bad = || LinkError::HostPort(whole.to_string());
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

impl FromStr for Via {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix("rtu-over-tcp:") {
            let (host, port) = host_port(s, rest)?;
            return Ok(Via::RtuOverTcp { host, port });
        }
        if let Some(rest) = s.strip_prefix("tcp:") {
            let (host, port) = host_port(s, rest)?;
            return Ok(Via::Tcp { host, port });
        }
        if let Some(rest) = s.strip_prefix("serial:") {
            let (path, settings) = match rest.split_once('@') {
                Some((p, st)) => (p, Some(st)),
                None => (rest, None),
            };
            if path.is_empty() {
                return Err(LinkError::Scheme(s.to_string()));
            }
            let (mut baud, mut framing) = (DEFAULT_BAUD, DEFAULT_FRAMING);
            if let Some(st) = settings {
                let (b, f) = match st.split_once(',') {
                    Some((b, f)) => (b, Some(f)),
                    None => (st, None),
                };
                baud = b
                    .parse()
                    .ok()
                    .filter(|b| (300..=921_600).contains(b))
                    .ok_or_else(|| LinkError::Baud(b.to_string()))?;
                if let Some(f) = f {
                    framing = Framing::parse(f).map_err(LinkError::Framing)?;
                }
            }
            return Ok(Via::Serial {
                path: path.to_string(),
                baud,
                framing,
            });
        }
        Err(LinkError::Scheme(s.to_string()))
    }
}

impl fmt::Display for Via {
    /// The short form used in messages: `serial:/dev/ttyUSB0@9600`, `tcp:10.0.0.5:502`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Serial { path, baud, .. } => write!(f, "serial:{path}@{baud}"),
            Via::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Via::RtuOverTcp { host, port } => write!(f, "rtu-over-tcp:{host}:{port}"),
            Via::Secure {
                host,
                port,
                gateway,
                bus,
            } => write!(f, "secure:{host}:{port} ({gateway} bus {bus})"),
        }
    }
}

impl TryFrom<&GatewayLink> for Via {
    type Error = LinkError;
    fn try_from(link: &GatewayLink) -> Result<Via, LinkError> {
        Ok(match link {
            GatewayLink::Tcp { host, port } => Via::Tcp {
                host: host.clone(),
                port: *port,
            },
            GatewayLink::RtuOverTcp { host, port } => Via::RtuOverTcp {
                host: host.clone(),
                port: *port,
            },
            GatewayLink::Serial {
                path,
                baud,
                framing,
            } => Via::Serial {
                path: path.clone(),
                baud: *baud,
                framing: *framing,
            },
            GatewayLink::Secure { .. } => return Err(LinkError::Secure(link.to_string())),
        })
    }
}

/// Opens a local serial port (or pty) with the line settings of a link.
pub fn open_serial(
    path: &str,
    baud: u32,
    framing: Framing,
) -> Result<tokio_serial::SerialStream, tokio_serial::Error> {
    use tokio_serial::SerialPortBuilderExt;
    tokio_serial::new(path, baud)
        .data_bits(if framing.data_bits == 7 {
            tokio_serial::DataBits::Seven
        } else {
            tokio_serial::DataBits::Eight
        })
        .parity(match framing.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Even => tokio_serial::Parity::Even,
            Parity::Odd => tokio_serial::Parity::Odd,
        })
        .stop_bits(if framing.stop_bits == 2 {
            tokio_serial::StopBits::Two
        } else {
            tokio_serial::StopBits::One
        })
        .open_native_async()
}

impl Via {
    /// The baud rate of the RS-485 bus behind this link, if the link says it; for TCP links
    /// the bus record says it (see `Bus::baud`), else [`DEFAULT_BAUD`] is assumed.
    pub fn baud(&self) -> Option<u32> {
        match self {
            Via::Serial { baud, .. } => Some(*baud),
            _ => None,
        }
    }

    pub fn framing(&self) -> Option<Framing> {
        match self {
            Via::Serial { framing, .. } => Some(*framing),
            _ => None,
        }
    }

    /// True when the bytes cross a network before reaching the bus (adds a margin to timeouts).
    pub fn is_network(&self) -> bool {
        !matches!(self, Via::Serial { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_link_form() {
        assert_eq!(
            "serial:/dev/ttyUSB0".parse::<Via>().unwrap(),
            Via::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: 9600,
                framing: DEFAULT_FRAMING
            }
        );
        let v: Via = "serial:/dev/ttyS1@2400,8N1".parse().unwrap();
        assert_eq!(v.baud(), Some(2400));
        assert_eq!(v.framing().unwrap().bits_per_char(), 10);
        assert_eq!(v.to_string(), "serial:/dev/ttyS1@2400");
        assert_eq!(
            "tcp:10.0.0.5:502".parse::<Via>().unwrap(),
            Via::Tcp {
                host: "10.0.0.5".into(),
                port: 502
            }
        );
        assert_eq!(
            "rtu-over-tcp:gw:4001".parse::<Via>().unwrap().to_string(),
            "rtu-over-tcp:gw:4001"
        );
    }

    #[test]
    fn refuses_bad_links_with_the_reason() {
        assert!(matches!(
            "udp:x:1".parse::<Via>(),
            Err(LinkError::Scheme(_))
        ));
        assert!(matches!(
            "tcp:x".parse::<Via>(),
            Err(LinkError::HostPort(_))
        ));
        assert!(matches!(
            "tcp:x:0".parse::<Via>(),
            Err(LinkError::HostPort(_))
        ));
        assert!(matches!(
            "serial:/dev/x@fast".parse::<Via>(),
            Err(LinkError::Baud(_))
        ));
        assert!(matches!(
            "serial:/dev/x@9600,9Z1".parse::<Via>(),
            Err(LinkError::Framing(_))
        ));
        assert_eq!(Framing::E81.bits_per_char(), 11);
        assert_eq!(Framing::parse("8N2").unwrap().bits_per_char(), 11);
    }
}
