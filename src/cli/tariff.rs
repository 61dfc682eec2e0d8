//! `voltvend tariff FILE`: define or change a named tariff from a tariff file, with the
//! daemon stopped (while it runs, the console or `POST /api/v1/tariffs` does the same).

use anyhow::bail;
use std::path::PathBuf;
use voltvend::site::{repo, tariff_file};

use super::import::{cli_actor, open_store};

/// Define or change a tariff from a tariff file, or list the stored tariffs.
///
/// The file is the TOML form of docs/tariffs.md with the tariff's name on top:
/// `name = "default"`, then `kind = "flat"` and `price = "0.85"` (or tiers, time-of-use
/// bands, or `[[versions]]` for dated price changes). It is checked whole; a mistake
/// prints one message (file, line where it can be told, why) and stores nothing.
#[derive(clap::Args)]
pub struct Args {
    /// The tariff file (.toml).
    #[arg(required_unless_present = "list")]
    file: Option<PathBuf>,
    /// Check the file and show what would change, but write nothing.
    #[arg(long)]
    dry_run: bool,
    /// List the stored tariffs, one line each.
    #[arg(long, conflicts_with_all = ["file", "dry_run"])]
    list: bool,
    /// The store file [default: `paths.store` from the config].
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
    /// The config file [default: $VOLTVEND_CONFIG, /etc/voltvend/voltvend.toml,
    /// /var/lib/voltvend/voltvend.toml, else built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = open_store(args.store, args.config)?;
    if args.list {
        for (name, value) in repo::list_tariffs(&store)? {
            println!("{name:<12} {}", tariff_file::summary(&value));
        }
        return Ok(());
    }
    let Some(path) = args.file else {
        bail!("name a tariff file, or --list");
    };
    let file = match tariff_file::read(&path) {
        Ok(f) => f,
        Err(why) => bail!("{why}; nothing was stored"),
    };
    let done = tariff_file::apply(&store, &cli_actor("tariff"), &file, args.dry_run)?;
    println!("{done}");
    Ok(())
}
