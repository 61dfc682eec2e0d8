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
    /// Simulated meters on ptys or TCP (Modbus RTU/TCP, DL/T 645), until Ctrl-C.
    Sim(cli::sim::Args),
}

fn main() -> anyhow::Result<()> {
    cli::init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("voltvend {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Sim(args) => cli::sim::run(args),
    }
}
