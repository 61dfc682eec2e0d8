//! Where receipts go: a device file (`/dev/usb/lp0`), a network printer on raw TCP port
//! 9100, or a folder (the sink used by the simulator and demo). Before sending over TCP we
//! ask the printer for its paper sensor (DLE EOT 4, Epson ESC/POS "Transmit real-time
//! status", n = 4: bits 5–6 set = roll paper end) so an empty printer is reported instead
//! of swallowing the receipt.

use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// DLE EOT 4: transmit roll paper sensor status.
pub const DLE_EOT_PAPER: [u8; 3] = [0x10, 0x04, 0x04];
/// Status byte bits 5 and 6: roll paper end sensor, paper not present.
pub const PAPER_END_BITS: u8 = 0x60;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const STATUS_TIMEOUT: Duration = Duration::from_millis(800);

/// A configured printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTarget {
    /// No printer: receipts are kept and can be reprinted, nothing is printed.
    None,
    /// A character device or file, e.g. `/dev/usb/lp0`.
    Device(PathBuf),
    /// Raw TCP (JetDirect) printer, `host:port` (port 9100 by convention).
    Tcp(String),
    /// A folder: each receipt as `<no>.bin` plus a decoded `<no>.txt` preview.
    Folder(PathBuf),
}

/// Why a receipt did not come out; the text is shown to the tenant and staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    #[error("the receipt printer is out of paper")]
    OutOfPaper,
    #[error("the receipt printer is offline ({0})")]
    Offline(String),
    #[error("no receipt printer is configured")]
    NotConfigured,
    #[error(
        "bad printer setting '{0}': use none, file:/dev/usb/lp0, tcp:HOST:9100 or folder:/path"
    )]
    BadTarget(String),
}

impl PrinterTarget {
    /// Parses a config value: `none`, `file:/dev/usb/lp0` (or `device:`), `tcp:10.0.0.9:9100`,
    /// `folder:/var/lib/voltvend/receipts`.
    pub fn parse(text: &str) -> Result<PrinterTarget, PrintError> {
        let t = text.trim();
        if t.is_empty() || t == "none" {
            return Ok(PrinterTarget::None);
        }
        let (kind, rest) = t
            .split_once(':')
            .ok_or_else(|| PrintError::BadTarget(t.to_string()))?;
        match kind {
            "device" | "file" if !rest.is_empty() => Ok(PrinterTarget::Device(rest.into())),
            "tcp" if rest.contains(':') => Ok(PrinterTarget::Tcp(rest.to_string())),
            "folder" if !rest.is_empty() => Ok(PrinterTarget::Folder(rest.into())),
            _ => Err(PrintError::BadTarget(t.to_string())),
        }
    }

    /// Sends one receipt's bytes. `name` (the receipt number) names folder files.
    pub async fn print(&self, name: &str, bytes: &[u8]) -> Result<(), PrintError> {
        match self {
            PrinterTarget::None => Err(PrintError::NotConfigured),
            PrinterTarget::Device(path) => print_device(path, bytes).await,
            PrinterTarget::Tcp(addr) => print_tcp(addr, bytes).await,
            PrinterTarget::Folder(dir) => super::folder::write_job(dir, name, bytes)
                .map(|_| ())
                .map_err(|e| PrintError::Offline(format!("{}: {e}", dir.display()))),
        }
    }
}

async fn print_device(path: &Path, bytes: &[u8]) -> Result<(), PrintError> {
    let offline = |e: std::io::Error| PrintError::Offline(format!("{}: {e}", path.display()));
    let mut f = tokio::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .await
        .map_err(offline)?;
    f.write_all(bytes).await.map_err(offline)?;
    f.flush().await.map_err(offline)?;
    Ok(())
}

async fn print_tcp(addr: &str, bytes: &[u8]) -> Result<(), PrintError> {
    let offline = |e: String| PrintError::Offline(format!("{addr}: {e}"));
    let mut s = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| offline("no answer".into()))?
        .map_err(|e| offline(e.to_string()))?;
    s.write_all(&DLE_EOT_PAPER)
        .await
        .map_err(|e| offline(e.to_string()))?;
    let mut status = [0u8; 1];
    // A printer that does not answer real-time status is still given the job.
    if let Ok(Ok(1)) = tokio::time::timeout(STATUS_TIMEOUT, s.read(&mut status)).await
        && status[0] & PAPER_END_BITS == PAPER_END_BITS
    {
        return Err(PrintError::OutOfPaper);
    }
    s.write_all(bytes)
        .await
        .map_err(|e| offline(e.to_string()))?;
    s.shutdown().await.map_err(|e| offline(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_bad_ones_say_how() {
        assert_eq!(PrinterTarget::parse("none").unwrap(), PrinterTarget::None);
        assert_eq!(
            PrinterTarget::parse("tcp:10.0.0.9:9100").unwrap(),
            PrinterTarget::Tcp("10.0.0.9:9100".into())
        );
        assert_eq!(
            PrinterTarget::parse("device:/dev/usb/lp0").unwrap(),
            PrinterTarget::Device("/dev/usb/lp0".into())
        );
        let e = PrinterTarget::parse("usb").unwrap_err().to_string();
        assert!(e.contains("tcp:HOST:9100"), "{e}");
    }
}
