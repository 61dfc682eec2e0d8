//! `voltvend demo`: a simulated building and the service, in one command.

use anyhow::Context;
use std::path::PathBuf;
use voltvend::daemon::seed::{
    DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD, DEMO_PIN, DEMO_UNIT, seed_demo,
};
use voltvend::daemon::{Daemon, DaemonConfig, shutdown_signal};
use voltvend::field::live::LiveState;
use voltvend::ledger::Ledger;
use voltvend::receipt::PrinterTarget;
use voltvend::store::Store;

/// Run a demo site: 2 buildings, 80 units, ~90 meters with 30 days of history, the
/// kiosk, the sandbox payment provider and a simulated receipt printer.
///
/// Everything lives in the data directory (created if needed; reused if it exists).
/// Receipts land in DATA/receipts as .bin (ESC/POS bytes) and .txt (what the paper says);
/// create DATA/receipts/paper-out to simulate an empty printer. Stops on Ctrl-C.
#[derive(clap::Args)]
pub struct Args {
    /// HTTP port on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Data directory.
    #[arg(long, value_name = "DIR", default_value = "./voltvend-demo")]
    data: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating {}", args.data.display()))?;
    let data = std::fs::canonicalize(&args.data)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let store = Store::open(&data.join("voltvend.redb"))?;
        let ledger = Ledger::open(store.clone())?;
        let (s, l) = (store.clone(), ledger.clone());
        let facts = tokio::task::spawn_blocking(move || seed_demo(&s, &l, jiff::Timestamp::now())).await??;
        // The simulated receipt printer: a raw TCP printer writing into DATA/receipts.
        let receipts = data.join("receipts");
        std::fs::create_dir_all(&receipts)?;
        let printer = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let printer_addr = printer.local_addr()?;
        tokio::spawn(voltvend::receipt::sink::serve(printer, receipts.clone()));
        let socket = data.join("api.sock");
        let d = Daemon::start_with(
            DaemonConfig {
                db_path: data.join("voltvend.redb"),
                listen: ([127, 0, 0, 1], args.port).into(),
                socket: Some(socket.clone()),
                public_url: None,
                site_name: "星河广场 Galaxy Plaza (demo)".to_string(),
                printer: PrinterTarget::Tcp(printer_addr.to_string()),
                sandbox: true,
            },
            store,
            ledger,
            LiveState::new(),
        )
        .await?;
        if facts.created {
            eprintln!(
                "demo site created: {} tenants, {} meters, {} readings",
                facts.tenants, facts.meters, facts.readings
            );
        }
        println!(
            "voltvend demo ready in {:.1}s — kiosk: {} — tenant: unit {DEMO_UNIT}, PIN {DEMO_PIN} — operator: {DEMO_OPERATOR} / {DEMO_OPERATOR_PASSWORD} (change it at first login) — staff console: cargo run -p voltvend-tui -- --socket {} — receipts: {} (Ctrl-C to stop)",
            started.elapsed().as_secs_f64(),
            d.public_url,
            socket.display(),
            receipts.display(),
        );
        shutdown_signal().await;
        d.stop().await;
        anyhow::Ok(())
    })
}
