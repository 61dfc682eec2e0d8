//! The `voltvend` command line. Each subcommand lives in its own module under src/cli/,
//! exposing `Args` (clap) and `run(args) -> anyhow::Result<()>`.

mod cli;

use clap::{Parser, Subcommand};

/// voltvend: prepaid electricity management for multi-tenant buildings.
///
/// One appliance per site reads every meter, charges by tariff, warns tenants before their
/// money runs out, trips on arrears and restores on top-up.
#[derive(Parser)]
#[command(name = "voltvend", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print version and build facts.
    Version,
    /// Read one meter once and print every value of its profile (commissioning).
    Read(cli::read::Args),
    /// Find the meters that answer on a bus.
    Scan(cli::scan::Args),
    /// Run the collector alone on a site database (or one full cycle with --once).
    Collect(cli::collect::Args),
    /// Simulated meters on ptys or TCP (Modbus RTU/TCP, DL/T 645), until Ctrl-C.
    Sim(cli::sim::Args),
    /// Run the appliance service (API, kiosk, payments, receipts).
    Serve(cli::serve::Args),
    /// Bridge a gateway box's RS-485 port to the server over the secured link.
    Gateway(cli::gateway::Args),
    /// Run a demo site with simulated meters, kiosk, sandbox payments and printer.
    Demo(cli::demo::Args),
    /// Balances, sales, refunds, reversals, history and checks of the ledger.
    Ledger(cli::ledger::Args),
    /// Create the data directory, a commented default config and the store.
    Init(cli::init::Args),
    /// Check the configuration file and report every bad key or value.
    Check(cli::check::Args),
    /// Import buildings, units, gateways, meters or tenants from a CSV or XLSX file.
    Import(cli::import::Args),
    /// Define or change a tariff from a tariff file (TOML), or list the stored tariffs.
    Tariff(cli::tariff::Args),
    /// Manage operators (staff accounts): add, passwd, list, disable, enable.
    Operator(cli::operator::Args),
    /// Reports (sales, energy, status, offline, alarms, readings, accounts) as text, CSV or XLSX.
    Report(cli::report::Args),
    /// Check (verify) or read (list) the hash-chained audit log.
    Audit(cli::audit::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The demo logs to a file in its data directory (see cli::demo); everything else to stderr.
    if !matches!(cli.command, Command::Demo(_)) {
        cli::init_logging();
    }
    match cli.command {
        Command::Read(a) => cli::read::run(a),
        Command::Scan(a) => cli::scan::run(a),
        Command::Collect(a) => cli::collect::run(a),
        Command::Version => {
            println!("voltvend {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Sim(args) => cli::sim::run(args),
        Command::Ledger(args) => cli::ledger::run(args),
        Command::Init(args) => cli::init::run(args),
        Command::Serve(args) => cli::serve::run(args),
        Command::Demo(args) => cli::demo::run(args),
        Command::Gateway(args) => cli::gateway::run(args),
        Command::Check(args) => cli::check::run(args),
        Command::Import(args) => cli::import::run(args),
        Command::Tariff(args) => cli::tariff::run(args),
        Command::Operator(args) => cli::operator::run(args),
        Command::Audit(args) => cli::audit::run(args),
        Command::Report(args) => cli::report::run(args),
    }
}
