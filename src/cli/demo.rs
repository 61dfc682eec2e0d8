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
/// create DATA/receipts/paper-out to simulate an empty printer. Tenants' SMS land in
/// DATA/sms. The log (a line per bus cycle) goes to DATA/voltvend.log, and to the terminal
/// too with -v. Stops on Ctrl-C.
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
    /// Show the log in the terminal too (it always goes to DATA/voltvend.log).
    #[arg(short, long)]
    verbose: bool,
}

/// What the banner names; everything a person needs to try the demo.
struct Banner {
    ready: std::time::Duration,
    kiosk: String,
    socket: PathBuf,
    receipts: PathBuf,
    log: PathBuf,
    verbose: bool,
    store: PathBuf,
    facts: voltvend::daemon::seed::DemoFacts,
    /// The simulated modem's pty and where its SMS land; none with --no-field.
    sms: Option<(PathBuf, PathBuf)>,
    gateways: Vec<String>,
}

impl Banner {
    /// The first line is what scripts and tests wait for: "voltvend demo ready in …s" and
    /// the kiosk URL.
    fn text(&self) -> String {
        let mut t = format!(
            "voltvend demo ready in {:.1}s — kiosk: {}\n\n",
            self.ready.as_secs_f64(),
            self.kiosk
        );
        let mut row = |label: &str, value: String| t.push_str(&format!("  {label:<10}{value}\n"));
        row(
            "site",
            if self.facts.created {
                format!(
                    "created {} tenants, {} meters, {} readings in {}",
                    self.facts.tenants,
                    self.facts.meters,
                    self.facts.readings,
                    self.store.display()
                )
            } else {
                format!("reused {}", self.store.display())
            },
        );
        row(
            "kiosk",
            format!(
                "{} (in English: {}/?lang=en)",
                self.kiosk,
                self.kiosk.trim_end_matches('/')
            ),
        );
        row("tenant", format!("unit {DEMO_UNIT}, PIN {DEMO_PIN}"));
        row(
            "operator",
            format!("{DEMO_OPERATOR} / {DEMO_OPERATOR_PASSWORD} (change it at first login)"),
        );
        row(
            "console",
            format!(
                "cargo run -p voltvend-tui -- --socket {}",
                self.socket.display()
            ),
        );
        row(
            "receipts",
            format!(
                "{} (.txt is what the paper says; create paper-out there for an empty printer)",
                self.receipts.display()
            ),
        );
        match &self.sms {
            Some((modem, dir)) => row(
                "sms",
                format!(
                    "{} (simulated GSM modem on {})",
                    dir.display(),
                    modem.display()
                ),
            ),
            None => row(
                "sms",
                "none (--no-field: no simulator, collector or modem)".into(),
            ),
        }
        for g in &self.gateways {
            row("gateway", g.clone());
        }
        row(
            "log",
            if self.verbose {
                format!("{} and this terminal", self.log.display())
            } else {
                format!("{} (-v shows it here too)", self.log.display())
            },
        );
        t.push_str("\nCtrl-C stops the demo.\n");
        t
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating {}", args.data.display()))?;
    let data = std::fs::canonicalize(&args.data)?;
    let log = data.join("voltvend.log");
    crate::cli::init_logging_to_file(&log, args.verbose)
        .with_context(|| format!("opening the log {}", log.display()))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let store = Store::open(&data.join("voltvend.redb"))?;
        let ledger = Ledger::open(store.clone())?;
        let (s, l) = (store.clone(), ledger.clone());
        let facts = tokio::task::spawn_blocking(move || seed_demo(&s, &l, jiff::Timestamp::now()))
            .await??;
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
        let mut sms = None;
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
            sms = Some((modem.path.clone(), data.join("sms")));
            Some(f)
        };
        let banner = Banner {
            ready: started.elapsed(),
            kiosk: d.public_url.clone(),
            socket,
            receipts,
            log,
            verbose: args.verbose,
            store: data.join("voltvend.redb"),
            facts,
            sms,
            gateways: field
                .as_ref()
                .map(|f| f.summary.clone())
                .unwrap_or_default(),
        };
        // One write, so a reader that stops after the first line cannot make a later line
        // fail with a broken pipe; and a closed stdout must not stop the demo.
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(banner.text().as_bytes());
            let _ = out.flush();
        }
        shutdown_signal().await;
        d.stop().await;
        if let Some(f) = field {
            f.stop().await;
        }
        anyhow::Ok(())
    })
}
