//! `voltvend report`: any report on the terminal, or exported to CSV / XLSX.

use std::path::PathBuf;

use anyhow::Context;
use voltvend::report::{self, Params, REPORTS, export};
use voltvend::store::Store;

/// Print a report, or export it to CSV (UTF-8 with BOM) or Excel.
///
/// Reports: sales, energy, status, offline-meters, offline-gateways, alarms,
/// alarm-history, readings, accounts (`--list` describes each). Dates are YYYY-MM-DD in
/// the site's time zone, both ends included (default: this month so far). The store must
/// not be open by a running daemon: there, use the API (`GET /api/v1/reports/{name}`) or
/// the staff console.
#[derive(clap::Args)]
pub struct Args {
    /// The report (see --list).
    #[arg(required_unless_present = "list")]
    name: Option<String>,
    /// List the reports.
    #[arg(long)]
    list: bool,
    /// The store (redb database file).
    #[arg(long, env = "VOLTVEND_STORE", default_value = super::ledger::DEFAULT_STORE)]
    store: PathBuf,
    #[arg(long, value_name = "YYYY-MM-DD")]
    from: Option<String>,
    #[arg(long, value_name = "YYYY-MM-DD")]
    to: Option<String>,
    /// sales: day, month or year.
    #[arg(long, default_value = "day")]
    period: String,
    /// energy: building, floor, unit or meter.
    #[arg(long, default_value = "unit")]
    group: String,
    /// readings: the meter.
    #[arg(long)]
    meter: Option<String>,
    /// text, csv or xlsx.
    #[arg(long, default_value = "text")]
    format: String,
    /// Write here instead of standard output (required for xlsx).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.list {
        for (n, what) in REPORTS {
            println!("{n:<17} {what}");
        }
        return Ok(());
    }
    let name = args.name.clone().unwrap_or_default();
    let store = Store::open(&args.store).with_context(|| {
        format!(
            "opening {} (is the daemon running? use the API then)",
            args.store.display()
        )
    })?;
    let tz = voltvend::site::repo::defaults(&store)?.tz();
    let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
    let params = Params::parse(
        args.from.as_deref(),
        args.to.as_deref(),
        Some(&args.period),
        Some(&args.group),
        args.meter.as_deref(),
        today,
    )?;
    let table = report::run(&store, &name, &params)?;
    let bytes = match args.format.as_str() {
        "text" => export::text(&table).into_bytes(),
        "csv" => export::csv(&table)?,
        "xlsx" => {
            if args.out.is_none() {
                anyhow::bail!("--format xlsx needs --out FILE");
            }
            export::xlsx(&table)?
        }
        f => anyhow::bail!("--format '{f}': use text, csv or xlsx"),
    };
    match &args.out {
        Some(p) => {
            std::fs::write(p, &bytes).with_context(|| format!("writing {}", p.display()))?;
            eprintln!(
                "{}: {} rows written to {}",
                table.title,
                table.rows.len(),
                p.display()
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}
