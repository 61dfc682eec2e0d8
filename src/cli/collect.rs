//! `voltvend collect`: run the collector alone against a site database (the same code the
//! daemon runs): every bus of the site model read by its own task, readings stored, energy
//! charged to the ledger. `--once` does one full read of every bus and exits (installers'
//! check after wiring; the scale benchmark).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use voltvend::field::charge::LedgerCharger;
use voltvend::field::collector::{Collector, CollectorConfig};
use voltvend::protocol::profile::ProfileSet;
use voltvend::store::Store;

/// Run the collector on the site database until Ctrl-C / SIGTERM (or one cycle with --once).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The site database (redb file); default: the store named by the config file.
    #[arg(long)]
    pub db: Option<std::path::PathBuf>,
    /// The config file (its `[collector]` section); default: $VOLTVEND_CONFIG or the usual
    /// places, else built-in defaults. The options below override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// One full read of every bus, print the figures, exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between full reads (default: the site's collection_interval_s).
    #[arg(long)]
    pub interval_s: Option<u64>,
    /// Shortest time between two live sweeps of a bus, in ms.
    #[arg(long)]
    pub live_floor_ms: Option<u64>,
    /// No live sweeps, full reads only.
    #[arg(long)]
    pub no_live: bool,
    /// Meter time runs this many times faster than real time (a simulator): scales the
    /// energy a reading may add before it is a suspect reading. Default 1.
    #[arg(long)]
    pub meter_time_scale: Option<i64>,
    /// Consecutive failed reads after which a meter is offline.
    #[arg(long)]
    pub offline_after: Option<u32>,
    /// Attempts per request.
    #[arg(long)]
    pub tries: Option<u32>,
    /// How long a meter may take to start answering, in ms.
    #[arg(long)]
    pub turnaround_ms: Option<u64>,
    /// A directory of extra meter profiles (*.toml).
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<std::path::PathBuf>,
    /// The secure gateway link key (32 hex digits); default: `collector.link_key_file`
    /// of the config when that file exists.
    #[arg(long, value_name = "FILE")]
    pub link_key_file: Option<std::path::PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Few blocking threads: they only write readings and post charges, which redb and the
    // ledger writer serialise anyway; hundreds of buses must not mean hundreds of threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(collect(args))
}

async fn collect(args: Args) -> anyhow::Result<()> {
    let (file, _) = voltvend::config::Config::load_or_default(args.config.as_deref())?;
    let db = args.db.clone().unwrap_or_else(|| file.store_path());
    let store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
    let defaults = file.apply_to(voltvend::site::repo::defaults(&store)?);
    let ledger = voltvend::ledger::Ledger::open(store.clone())?;
    ledger.set_hoarding_cap(defaults.hoarding_cap);
    let mut profiles = ProfileSet::builtin();
    if let Some(dir) = &args.profiles {
        profiles.load_dir(dir)?;
    }
    let mut config = CollectorConfig::from_config(&file.collector, &defaults);
    if let Some(n) = args.meter_time_scale {
        config.plausibility.time_scale = n.max(1);
    }
    if let Some(s) = args.interval_s {
        config.collection_interval = Duration::from_secs(s.max(1));
    }
    if let Some(ms) = args.live_floor_ms {
        config.live_floor = Duration::from_millis(ms);
    }
    config.live_sweeps = !args.no_live && !args.once;
    if let Some(n) = args.offline_after {
        config.offline_after = n.max(1);
    }
    if let Some(n) = args.tries {
        config.retry.tries = n.max(1);
    }
    if let Some(ms) = args.turnaround_ms {
        config.retry.turnaround = Duration::from_millis(ms);
    }
    let key_file = args
        .link_key_file
        .clone()
        .or_else(|| Some(file.link_key_path()).filter(|p| p.exists()));
    if let Some(k) = key_file {
        config.link_key = Some(
            voltvend::field::secure::read_key_file(&k)
                .map_err(|e| anyhow::anyhow!("link key: {e}"))?,
        );
    }
    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger.clone()));
    let started = Instant::now();
    let mut handle = Collector::spawn(store, charger, &profiles, config)?;
    let buses = handle.bus_count();
    let meters = handle.live().meters().len();
    tracing::info!(buses, meters, "collector started");
    if args.once {
        let (mut read, mut failed, mut done) = (0usize, 0usize, 0usize);
        let mut slowest = Duration::ZERO;
        while done < buses {
            let Some(c) = handle.next_cycle().await else {
                break;
            };
            if c.group == "full" {
                done += 1;
                read += c.read;
                failed += c.failed;
                slowest = slowest.max(c.elapsed);
            }
        }
        let cycle = started.elapsed();
        handle.shutdown().await;
        let (cpu_ms, rss_kb) = own_usage();
        println!(
            "collect: buses={buses} meters={meters} read={read} failed={failed} cycle={}.{:03}s slowest_bus={}.{:03}s cpu={}.{:03}s rss_peak_kb={rss_kb}",
            cycle.as_secs(),
            cycle.subsec_millis(),
            slowest.as_secs(),
            slowest.subsec_millis(),
            cpu_ms / 1000,
            cpu_ms % 1000
        );
        return Ok(());
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    handle.shutdown().await;
    tracing::info!("collector stopped");
    Ok(())
}

/// CPU time (user + system, ms) and peak resident set (VmHWM, kB) of this process.
fn own_usage() -> (u64, u64) {
    // SAFETY: getrusage only writes the struct we pass, which lives on our stack.
    let cpu_ms = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) == 0 {
            let ms = |t: libc::timeval| (t.tv_sec as u64) * 1000 + (t.tv_usec as u64) / 1000;
            ms(u.ru_utime) + ms(u.ru_stime)
        } else {
            0
        }
    };
    let rss_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0);
    (cpu_ms, rss_kb)
}
