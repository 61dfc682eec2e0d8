//! `voltvend check`: validate the configuration file.

use anyhow::bail;
use std::path::PathBuf;
use voltvend::config::{self, Config, ConfigError};

/// Check the configuration file and report every bad key or value.
///
/// Each problem is printed as `FILE:LINE:COL: KEY: what is wrong; what to do`. The exit
/// status is non-zero if there is any problem. Without --config, the file is looked for
/// in $VOLTVEND_CONFIG, /etc/voltvend/voltvend.toml and /var/lib/voltvend/voltvend.toml.
/// Keys are described in docs/config.md.
#[derive(clap::Args)]
pub struct Args {
    /// The config file to check.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let Some(path) = config::locate(args.config.as_deref()) else {
        println!(
            "no config file found (looked in $VOLTVEND_CONFIG, {}); the defaults apply",
            config::SEARCH_PATHS.join(", ")
        );
        return Ok(());
    };
    match Config::load(&path) {
        Ok(c) => {
            println!(
                "{}: OK (site '{}', store {})",
                path.display(),
                c.site.name,
                c.store_path().display()
            );
            Ok(())
        }
        Err(ConfigError::Invalid { file, problems }) => {
            for p in &problems {
                eprintln!("{p}");
            }
            bail!("{} problem(s) in {file}", problems.len())
        }
        Err(e) => Err(e.into()),
    }
}
