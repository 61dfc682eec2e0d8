//! The simulated receipt printer: a raw TCP (port 9100 style) printer that answers the
//! paper status query and writes each job to a folder as the folder target does
//! ([`super::folder`]). Creating a file named `paper-out` in the folder makes it report an
//! empty paper roll.

use super::folder::write_job;
use super::printer::{DLE_EOT_PAPER, PAPER_END_BITS};
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Status byte with the fixed bits (1 and 4) set: paper present.
const STATUS_OK: u8 = 0x12;

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
