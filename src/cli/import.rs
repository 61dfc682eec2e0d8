//! `voltvend import KIND FILE`: batch import of site records from CSV or XLSX.

use anyhow::{Context, bail};
use std::path::PathBuf;
use voltvend::auth::Actor;
use voltvend::import::{ImportError, Kind, import_file};
use voltvend::store::Store;

/// Import buildings, units, gateways, meters or tenants from a CSV or XLSX file.
///
/// The whole file is checked before anything is written: the header, every cell, keys
/// that appear twice, and references to buildings, gateways, buses, units and tariffs.
/// If anything is wrong, every problem is printed as `FILE:LINE: column 'NAME': why` and
/// nothing is imported. A clean file is written in one transaction; rows equal to the
/// stored record are left alone (re-importing a file changes nothing) and changed rows
/// update the record with the same key. Import in order: buildings, units, gateways,
/// meters, tenants. Columns and examples: docs/import.md and examples/site/.
#[derive(clap::Args)]
pub struct Args {
    /// What the file holds.
    #[arg(value_enum)]
    kind: Kind,
    /// The .csv (UTF-8 or GBK) or .xlsx file; in a workbook, the sheet named like KIND
    /// is used if there is one, else the first sheet.
    file: PathBuf,
    /// Check everything and count what would change, but write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The store file [default: `paths.store` from the config].
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
    /// The config file [default: $VOLTVEND_CONFIG, /etc/voltvend/voltvend.toml,
    /// /var/lib/voltvend/voltvend.toml, else built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Who made a change from the command line, for the audit log.
pub fn cli_actor(command: &str) -> Actor {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown user".to_string());
    Actor::system(&format!("cli {command} ({user})"))
}

/// Opens the existing store named by `--store` or the config.
pub fn open_store(store: Option<PathBuf>, config: Option<PathBuf>) -> anyhow::Result<Store> {
    let path = match store {
        Some(p) => p,
        None => {
            let (config, _) = voltvend::config::Config::load_or_default(config.as_deref())?;
            config.store_path()
        }
    };
    if !path.is_file() {
        bail!(
            "no store at {}: run `voltvend init` first, or name it with --store",
            path.display()
        );
    }
    Store::open(&path).with_context(|| format!("opening {}", path.display()))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = open_store(args.store, args.config)?;
    let actor = cli_actor(&format!("import {}", args.kind.as_str()));
    match import_file(&store, &actor, args.kind, &args.file, args.dry_run) {
        Ok(report) => {
            println!("{}: {report}", args.file.display());
            Ok(())
        }
        Err(ImportError::Invalid { file, problems }) => {
            for p in &problems {
                eprintln!("{p}");
            }
            bail!(
                "{} problem(s) in {file}; nothing was imported",
                problems.len()
            )
        }
        Err(e) => Err(e.into()),
    }
}
