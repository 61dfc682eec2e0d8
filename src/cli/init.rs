//! `voltvend init`: create the data directory, a commented config file and the store.

use anyhow::Context;
use std::path::{Path, PathBuf};
use voltvend::auth::audit;
use voltvend::config::{self, Config};
use voltvend::site::repo;
use voltvend::store::Store;

/// Create the data directory, a commented default config and the store.
///
/// Writes DIR/voltvend.toml (every key with its default and a comment; `paths.data_dir`
/// set to DIR) unless it exists, creates the store it names and stores the site defaults.
/// Running it again keeps the existing config and store. Point the other commands at
/// the config with --config or VOLTVEND_CONFIG, or copy it to /etc/voltvend/voltvend.toml.
#[derive(clap::Args)]
pub struct Args {
    /// The data directory to create.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/voltvend")]
    dir: PathBuf,
}

/// The default config text with `paths.data_dir` set to `dir`.
fn config_text(dir: &Path) -> String {
    let quoted = toml::Value::String(dir.display().to_string()).to_string();
    config::DEFAULT_TOML.replacen(
        "data_dir = \"/var/lib/voltvend\"",
        &format!("data_dir = {quoted}"),
        1,
    )
}

pub fn run(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let dir = std::fs::canonicalize(&args.dir)?;
    let config_path = dir.join(config::FILE_NAME);
    if config_path.exists() {
        println!("kept the existing config {}", config_path.display());
    } else {
        std::fs::write(&config_path, config_text(&dir))
            .with_context(|| format!("writing {}", config_path.display()))?;
        println!("wrote the config {}", config_path.display());
    }
    let config = Config::load(&config_path)?;
    let store_path = config.store_path();
    if let Some(parent) = store_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let existed = store_path.exists();
    let store = Store::open(&store_path)?;
    let actor = super::import::cli_actor("init");
    let txn = store.db().begin_write()?;
    let has_defaults = {
        use redb::ReadableTable;
        txn.open_table(repo::SETTINGS)?.get("defaults")?.is_some()
    };
    if !has_defaults {
        let defaults = config.apply_to(voltvend::site::SiteDefaults::default());
        repo::set_defaults(&txn, &actor, &defaults)?;
        audit::append_in(
            &txn,
            &actor,
            "site.init",
            serde_json::json!({
                "config": config_path.display().to_string(),
                "store": store_path.display().to_string(),
                "version": env!("CARGO_PKG_VERSION"),
            }),
        )?;
        txn.commit()?;
    } else {
        txn.abort()?;
    }
    println!(
        "{} the store {}",
        if existed { "kept" } else { "created" },
        store_path.display()
    );
    // TODO(auth::operators): create the first admin operator with a generated first-login
    // password printed once, when auth::operators is on main.
    println!(
        "next: export VOLTVEND_CONFIG={} and import the site (voltvend import --help)",
        config_path.display()
    );
    Ok(())
}
