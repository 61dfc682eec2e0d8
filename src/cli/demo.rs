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

/// Run a demo site: 2 buildings, 80 units, ~90 meters with 30 days of history, a simulated
/// building behind three gateways (Modbus TCP, a serial server and the secure link) read
/// by the collector, the control queue, the kiosk, sandbox payments and a simulated
/// receipt printer.
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
    /// Simulated seconds per real second: loads and energy run this much faster, so
    /// balances visibly fall and alarms come within minutes.
    #[arg(long, default_value_t = 10)]
    accel: u64,
    /// Seconds between two full reads of every meter (readings stored, energy charged).
    #[arg(long, default_value_t = 60)]
    interval_s: u64,
    /// Serve only (no simulator, collector or control queue).
    #[arg(long)]
    no_field: bool,
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
        let live = LiveState::new();
        let mut d = Daemon::start_with(
            DaemonConfig {
                db_path: data.join("voltvend.redb"),
                listen: ([127, 0, 0, 1], args.port).into(),
                socket: Some(socket.clone()),
                public_url: None,
                site_name: "星河广场 Galaxy Plaza (demo)".to_string(),
                printer: PrinterTarget::Tcp(printer_addr.to_string()),
                sandbox: true,
            },
            store.clone(),
            ledger.clone(),
            live.clone(),
        )
        .await?;
        let field = if args.no_field {
            None
        } else {
            let f = voltvend::daemon::demo_field::start(
                &store,
                &ledger,
                live,
                &data.join("keys"),
                &voltvend::daemon::demo_field::DemoFieldOptions {
                    accel: args.accel,
                    collection_interval: std::time::Duration::from_secs(args.interval_s.max(1)),
                    ..Default::default()
                },
            )
            .await?;
            d.run_control(
                f.collector.clone(),
                voltvend::control::ControlConfig {
                    credit_key: Some(voltvend::daemon::credit_master_key_async(&store).await?),
                    ..Default::default()
                },
            );
            // Archival: the seeded history is rolled up a minute after start.
            d.run_archive(Default::default());
            // The simulated GSM modem: tenants' SMS land in DATA/sms as text files.
            let modem = voltvend::sim::modem::SimModem::spawn(Some(data.join("sms")))?;
            d.run_alarms(
                voltvend::alarm::engine::AlarmConfig {
                    // A demo shows its SMS at once, day or night.
                    quiet_hours: None,
                    ..voltvend::alarm::engine::AlarmConfig::from_config(
                        &voltvend::config::AlarmsSection::default(),
                        "星河广场",
                    )
                    .map_err(anyhow::Error::msg)?
                },
                Some(voltvend::alarm::sms::sender::SenderConfig::new(
                    &modem.path.display().to_string(),
                    115_200,
                    None,
                )),
            );
            eprintln!("simulated GSM modem on {} — SMS to tenants: {}", modem.path.display(), data.join("sms").display());
            for line in &f.summary {
                eprintln!("simulated gateway {line}");
            }
            Some(f)
        };
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
        if let Some(f) = field {
            f.stop().await;
        }
        anyhow::Ok(())
    })
}
