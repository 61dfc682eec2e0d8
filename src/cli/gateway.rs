//! `voltvend gateway`: runs on a gateway box and bridges one RS-485 port to the server over
//! the 3DES-secured link.

use anyhow::Context;
use std::path::PathBuf;
use voltvend::field::gateway::{BridgeConfig, GatewayBridge};
use voltvend::field::link::Via;

/// Bridge an RS-485 port to the voltvend server over the secured link.
///
/// Dials the server (its collector listens on the port of the gateway's `secure:HOST:PORT`
/// link in the site model), proves the shared key, re-keys on every connection and
/// carries the bus bytes in sealed frames; replayed, reordered or tampered frames are
/// dropped and counted. Reconnects by itself; stops on Ctrl-C or SIGTERM.
#[derive(clap::Args)]
pub struct Args {
    /// The RS-485 port: /dev/ttyS1@9600 or /dev/ttyS1@9600,8E1 (default 9600 8N1).
    #[arg(long, value_name = "PORT[@BAUD[,FRAMING]]")]
    serial: String,
    /// The server's secure link listener.
    #[arg(long, value_name = "HOST:PORT")]
    connect: String,
    /// The link master key: 32 hex digits (the same file as the server's
    /// `collector.link_key_file`).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// This gateway's id in the site model.
    #[arg(long, value_name = "ID")]
    id: String,
    /// The bus number of this port on the gateway.
    #[arg(long, default_value_t = 1)]
    bus: u8,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let serial = if args.serial.starts_with("serial:") {
        args.serial.clone()
    } else {
        format!("serial:{}", args.serial)
    };
    let serial: Via = serial
        .parse()
        .with_context(|| format!("--serial {}", args.serial))?;
    let key = voltvend::field::secure::read_key_file(&args.key_file)
        .map_err(|e| anyhow::anyhow!("--key-file {e}"))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let (bridge, task) = GatewayBridge::spawn(
            BridgeConfig {
                serial,
                connect: args.connect.clone(),
                key,
                gateway: args.id.clone(),
                bus: args.bus,
            },
            stop,
        )
        .map_err(|e| anyhow::anyhow!("--serial: {e}"))?;
        eprintln!(
            "voltvend gateway {} bus {}: bridging {} to {} (Ctrl-C to stop)",
            args.id, args.bus, args.serial, args.connect
        );
        voltvend::daemon::shutdown_signal().await;
        let _ = stop_tx.send(true);
        let _ = task.await;
        let s = bridge.stats.lock().map(|s| *s).unwrap_or_default();
        eprintln!(
            "gateway stopped: {} connections, {} frames accepted, {} replayed, {} tampered, {} malformed",
            bridge
                .connections
                .load(std::sync::atomic::Ordering::Relaxed),
            s.accepted,
            s.replayed,
            s.tampered,
            s.malformed
        );
        anyhow::Ok(())
    })
}
