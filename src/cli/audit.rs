//! `voltvend audit`: check and read the hash-chained audit log.

use super::operator::{StoreLocation, open_existing};
use anyhow::Result;
use clap::Subcommand;
use voltvend::auth::audit;

/// Check or read the audit log (every change to money, site, tariffs and operators).
#[derive(clap::Args)]
#[command(after_help = "\
Each entry carries the SHA-256 of the one before it, and the store keeps the chain's head,
so an edited, rewritten, removed or cut-off entry breaks the chain; `verify` names the first
broken entry, e.g. `audit entry 17 tampered (hash mismatch)` or `audit entry 17 missing`.")]
pub struct Args {
    #[command(flatten)]
    pub location: StoreLocation,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Recompute every hash and link. Prints "audit log intact: N entries" and exits 0, or
    /// names the first tampered or missing entry and exits 1.
    Verify,
    /// Print the most recent entries, oldest first.
    List {
        /// How many entries.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> Result<()> {
    let store = open_existing(&args.location.path()?)?;
    match args.command {
        Cmd::Verify => {
            let report = audit::verify(&store)?;
            println!("{report}");
            if !report.is_intact() {
                std::process::exit(1);
            }
            Ok(())
        }
        Cmd::List { limit, json } => {
            for e in audit::recent(&store, limit)? {
                if json {
                    println!("{}", serde_json::to_string(&e)?);
                } else {
                    println!(
                        "{:>6}  {}  {:<22} {:<28} {}",
                        e.seq,
                        e.at,
                        e.actor.label(),
                        e.action,
                        e.detail
                    );
                }
            }
            Ok(())
        }
    }
}
