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
    /// Manage operators (staff accounts): add, passwd, list, disable, enable.
    Operator(cli::operator::Args),
    /// Check (verify) or read (list) the hash-chained audit log.
    Audit(cli::audit::Args),
}

fn main() -> anyhow::Result<()> {
    cli::init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("voltvend {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Operator(args) => cli::operator::run(args),
        Command::Audit(args) => cli::audit::run(args),
    }
}
