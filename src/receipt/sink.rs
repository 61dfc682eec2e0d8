//! The simulated receipt printer: a raw TCP (port 9100 style) printer that answers the
//! paper status query and writes each job to a folder as `<receipt>.bin` (the exact bytes)
//! and `<receipt>.txt` (what the paper would show, decoded). Creating a file named
//! `paper-out` in the folder makes it report an empty paper roll.

use super::decode::decode;
use super::printer::{DLE_EOT_PAPER, PAPER_END_BITS};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Status byte with the fixed bits (1 and 4) set: paper present.
const STATUS_OK: u8 = 0x12;

/// Writes one job to `dir`: bytes and a decoded preview. The file name is the receipt
/// number found on the paper (`R…`), else `name`.
pub fn write_job(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let preview = match decode(bytes) {
        Ok(d) => d.preview(),
        Err(e) => format!("(undecodable: {e})\n"),
    };
    let stem = if name.is_empty() {
        receipt_no_in(&preview)
            .unwrap_or_else(|| format!("job-{}", jiff::Timestamp::now().as_millisecond()))
    } else {
        name.to_string()
    };
    let bin = dir.join(format!("{stem}.bin"));
    // Write the preview first and the bytes last, so a reader that sees .bin sees both.
    std::fs::write(dir.join(format!("{stem}.txt")), preview)?;
    std::fs::write(&bin, bytes)?;
    Ok(bin)
}

fn receipt_no_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.len() == 9 && w.starts_with('R') && w[1..].bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

/// Serves a simulated printer on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, dir: PathBuf) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            continue;
        };
        let dir = dir.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                match conn.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                // Answer real-time status queries as they arrive at the start of a job.
                while buf.starts_with(&DLE_EOT_PAPER) {
                    buf.drain(..3);
                    let status = if dir.join("paper-out").exists() {
                        STATUS_OK | PAPER_END_BITS
                    } else {
                        STATUS_OK
                    };
                    if conn.write_all(&[status]).await.is_err() {
                        return;
                    }
                }
            }
            if !buf.is_empty()
                && let Err(e) = write_job(&dir, "", &buf)
            {
                tracing::warn!(error = %e, "printer sink could not write a job");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_receipt_number_on_the_paper() {
        assert_eq!(
            receipt_no_in("单号 No.:  R00000012\n"),
            Some("R00000012".into())
        );
        assert_eq!(receipt_no_in("nothing"), None);
    }
}
