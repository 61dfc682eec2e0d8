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
    /// Balances, sales, refunds, reversals, history and checks of the ledger.
    Ledger(cli::ledger::Args),
}

fn main() -> anyhow::Result<()> {
    cli::init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("voltvend {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Ledger(args) => cli::ledger::run(args),
    }
}
