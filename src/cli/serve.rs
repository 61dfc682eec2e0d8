//! `voltvend serve`: the daemon.

use anyhow::Context;
use std::path::PathBuf;
use voltvend::config::Config;
use voltvend::daemon::{Daemon, DaemonConfig, shutdown_signal};
use voltvend::receipt::PrinterTarget;

/// Run the appliance service: API, kiosk, payments and receipts on the site store.
///
/// Reads the config (--config, else $VOLTVEND_CONFIG, else /etc/voltvend/voltvend.toml,
/// else defaults): `[paths]` for the store, `[api]` for the TCP address and the Unix
/// socket of the staff console, `[printer]` and `[payment]`. Stops cleanly on SIGTERM or
/// Ctrl-C: in-flight requests finish, the store is closed, the socket removed.
#[derive(clap::Args)]
pub struct Args {
    /// The config file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen on this address instead of `api.listen`, e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "IP:PORT")]
    listen: Option<String>,
    /// Base URL that phones reach the appliance at (printed in QR codes); default
    /// http://LISTEN-ADDRESS.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Also run the field side: the collector on every configured bus and the control
    /// queue (meter commands confirmed by read-back, host-mode arrears trips).
    #[arg(long)]
    field: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (cfg, file) = Config::load_or_default(args.config.as_deref())?;
    if let Some(f) = &file {
        tracing::info!(config = %f.display(), "config loaded");
    }
    let dc = daemon_config(&cfg, args.listen.as_deref(), args.public_url)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let mut d = Daemon::start(dc).await?;
        if args.field {
            let store = d.state.store.clone();
            let defaults = cfg.apply_to(voltvend::site::repo::defaults(&store)?);
            let charger = std::sync::Arc::new(voltvend::field::charge::LedgerCharger::new(
                store.clone(),
                d.state.ledger.clone(),
            ));
            let mut collector_cfg =
                voltvend::field::collector::CollectorConfig::from_config(&cfg.collector, &defaults);
            let key_path = cfg.link_key_path();
            if key_path.exists() {
                collector_cfg.link_key = Some(
                    voltvend::field::secure::read_key_file(&key_path)
                        .map_err(|e| anyhow::anyhow!("collector.link_key_file: {e}"))?,
                );
            }
            let collector = voltvend::field::collector::Collector::spawn_with(
                store,
                charger,
                &voltvend::protocol::profile::ProfileSet::builtin(),
                collector_cfg,
                d.state.live.clone(),
            )?;
            d.run_control(
                std::sync::Arc::new(collector),
                voltvend::control::ControlConfig {
                    credit_key: Some(
                        voltvend::daemon::credit_master_key_async(&d.state.store).await?,
                    ),
                    grace: voltvend::control::Grace {
                        amount: cfg.alarms.trip_grace_amount.0,
                        time: cfg.alarms.trip_grace.0,
                    },
                    watch: voltvend::control::meter_watch::WatchConfig {
                        overload_readings: cfg.alarms.overload_readings,
                        overload_trip: cfg.alarms.overload_trip,
                        drift_tolerance: cfg.alarms.drift_tolerance.0,
                    },
                    ..Default::default()
                },
            );
            tracing::info!("collector and control queue running");
        }
        let sms = (!cfg.sms.modem.as_os_str().is_empty()).then(|| {
            voltvend::alarm::sms::sender::SenderConfig::new(
                &cfg.sms.modem.display().to_string(),
                cfg.sms.baud,
                (!cfg.sms.smsc.is_empty()).then(|| cfg.sms.smsc.clone()),
            )
        });
        d.run_alarms(
            voltvend::alarm::engine::AlarmConfig::from_config(&cfg.alarms, &cfg.site.name)
                .map_err(anyhow::Error::msg)?,
            sms,
        );
        d.run_archive(voltvend::daemon::archive::ArchiveConfig {
            every: cfg.archive.every.0,
            raw_retention: cfg.archive.raw_retention.0,
            batch: cfg.archive.batch as usize,
            ..Default::default()
        });
        d.run_snapshots();
        let notifier = d.notify_ready();
        eprintln!("voltvend serving on http://{} (Ctrl-C to stop)", d.addr);
        shutdown_signal().await;
        voltvend::daemon::service::notify_stopping(notifier.as_ref());
        d.stop().await;
        anyhow::Ok(())
    })
}

/// The daemon settings from the config file.
pub fn daemon_config(
    cfg: &Config,
    listen: Option<&str>,
    public_url: Option<String>,
) -> anyhow::Result<DaemonConfig> {
    let listen_text = listen.unwrap_or(&cfg.api.listen);
    let listen = listen_text
        .parse()
        .with_context(|| format!("api.listen '{listen_text}' is not IP:PORT"))?;
    if let Some(dir) = cfg.store_path().parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let socket = if cfg.api.socket.as_os_str().is_empty() {
        None
    } else {
        if let Some(dir) = cfg.api.socket.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Some(cfg.api.socket.clone())
    };
    Ok(DaemonConfig {
        db_path: cfg.store_path(),
        listen,
        socket,
        public_url,
        site_name: cfg.site.name.clone(),
        printer: PrinterTarget::parse(&cfg.printer.target)
            .with_context(|| "config key printer.target")?,
        sandbox: cfg.payment.provider == "sandbox",
    })
}
