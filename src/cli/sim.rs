//! `voltvend sim`: simulated meters on ptys or TCP until Ctrl-C / SIGTERM.

use anyhow::Context;
use std::path::PathBuf;
use voltvend::sim::{Building, Faults, SimConfig, SimProtocol};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Proto {
    Modbus,
    Dlt645,
}

/// Simulated prepaid meters (Modbus RTU/TCP, DL/T 645) for tests, demos and installers.
///
/// Prints the seed and one line per bus (endpoint, link string, meter addresses), then serves
/// until Ctrl-C or SIGTERM. Without --config: one bus of --meters meters.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Number of meters on the bus (addresses 1..=N).
    #[arg(long, default_value_t = 4)]
    pub meters: u32,
    #[arg(long, value_enum, default_value = "modbus")]
    pub protocol: Proto,
    /// Serve on a pseudo-terminal (the default); prints the slave path.
    #[arg(long, conflicts_with_all = ["tcp", "rtu_over_tcp"])]
    pub pty: bool,
    /// Serve as a Modbus TCP gateway (DL/T 645: raw frames) on ADDR, e.g. 127.0.0.1:5020.
    #[arg(long, value_name = "ADDR", conflicts_with = "rtu_over_tcp")]
    pub tcp: Option<String>,
    /// Serve raw RTU frames over TCP (a serial server) on ADDR.
    #[arg(long, value_name = "ADDR")]
    pub rtu_over_tcp: Option<String>,
    /// Line speed for pacing (0 = unpaced).
    #[arg(long, default_value_t = 9600)]
    pub baud: u32,
    /// Reply turnaround in ms.
    #[arg(long, default_value_t = 20)]
    pub turnaround_ms: u64,
    /// Simulated seconds per real second (0 = simulated time stands still).
    #[arg(long)]
    pub accel: Option<u64>,
    /// Seed (printed when drawn at random).
    #[arg(long)]
    pub seed: Option<u64>,
    /// A sim.toml describing buses and meters (see docs/simulator.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bus faults at start, e.g. `garbage,permille=100`.
    #[arg(long, value_name = "LIST")]
    pub bus_faults: Option<String>,
    /// A faults file watched for changes (run-time fault control, see docs/simulator.md).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// Also run a simulated GSM modem on a pty; every SMS it delivers is written to DIR
    /// as `sms-NNNN.txt` (see docs/alarms.md).
    #[arg(long, value_name = "DIR")]
    pub modem: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            SimConfig::from_toml_str(&text, &path.display().to_string())?
        }
        None => {
            let protocol = match args.protocol {
                Proto::Modbus => SimProtocol::Modbus,
                Proto::Dlt645 => SimProtocol::Dlt645,
            };
            let transport = match (&args.tcp, &args.rtu_over_tcp) {
                (Some(a), _) => format!("tcp:{a}"),
                (None, Some(a)) => format!("rtu-over-tcp:{a}"),
                (None, None) => "pty".to_string(),
            };
            let mut c = SimConfig::quick(args.meters, protocol, &transport, args.baud);
            c.buses[0].turnaround_ms = args.turnaround_ms;
            if let Some(list) = &args.bus_faults {
                c.buses[0].faults = Faults::parse_list(list)?;
            }
            c
        }
    };
    if args.seed.is_some() {
        config.seed = args.seed;
    }
    if args.accel.is_some() {
        config.accel = args.accel;
    }
    let building = Building::spawn(config).await?;
    println!("seed: {}", building.seed());
    println!("accel: {}", building.clock().accel());
    // Held to the end: the modem's pty lives as long as the simulator.
    let _modem = match &args.modem {
        Some(dir) => {
            let m = voltvend::sim::modem::SimModem::spawn(Some(dir.clone()))
                .context("starting the simulated GSM modem")?;
            println!("modem: pty {} sms {}", m.path.display(), dir.display());
            Some(m)
        }
        None => None,
    };
    for line in building.describe() {
        println!("{line}");
    }
    use std::io::Write as _;
    std::io::stdout().flush().ok();
    let watcher = args.faults.clone().map(|path| {
        let handles = building.buses().iter().map(|b| b.handle()).collect();
        tokio::spawn(voltvend::sim::control::watch_faults_file(path, handles))
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    if let Some(w) = watcher {
        w.abort();
    }
    tracing::info!("simulator stopped");
    Ok(())
}
