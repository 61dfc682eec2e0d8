//! `voltvend init`: create the data directory, a commented config file and the store.

use anyhow::Context;
use std::path::{Path, PathBuf};
use voltvend::auth::{Role, audit, operators};
use voltvend::config::{self, Config};
use voltvend::site::repo;
use voltvend::store::Store;

/// Create the data directory, a commented default config and the store.
///
/// Writes DIR/voltvend.toml (every key with its default and a comment; `paths.data_dir`
/// set to DIR) unless it exists, creates the store it names, stores the site defaults and,
/// if the store has no operator yet, creates the first admin with a generated password
/// that is printed once and must be changed at the first login.
/// Running it again keeps the existing config and store. Point the other commands at
/// the config with --config or VOLTVEND_CONFIG, or copy it to /etc/voltvend/voltvend.toml.
#[derive(clap::Args)]
pub struct Args {
    /// The data directory to create.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/voltvend")]
    dir: PathBuf,
    /// Name of the first admin operator, created (with a generated password printed
    /// once) when the store has no operator yet.
    #[arg(long, value_name = "NAME", default_value = "admin")]
    admin: String,
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
    let defaults = config.apply_to(voltvend::site::SiteDefaults::default());
    let detail = serde_json::json!({
        "config": config_path.display().to_string(),
        "store": store_path.display().to_string(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let init_actor = actor.clone();
    // Kept stores keep their defaults: only a store without them gets the config's.
    store.write(move |txn| {
        let has_defaults = {
            use redb::ReadableTable;
            txn.open_table(repo::SETTINGS)?.get("defaults")?.is_some()
        };
        if !has_defaults {
            repo::set_defaults(txn, &init_actor, &defaults)?;
            audit::append_in(txn, &init_actor, "site.init", detail.clone())?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    println!(
        "{} the store {}",
        if existed { "kept" } else { "created" },
        store_path.display()
    );
    // The first admin: only while there is no operator at all, with a random password
    // shown this once (the store keeps only its argon2id hash) and changed at first login.
    if operators::list(&store)?.is_empty() {
        let password = operators::generate_password();
        operators::add(&store, &actor, &args.admin, Role::Admin, &password)?;
        println!(
            "created the admin operator '{}' with the password {password}\n  (shown only \
             now; it must be changed at the first login)",
            args.admin
        );
    }
    println!(
        "next: export VOLTVEND_CONFIG={} and import the site (voltvend import --help)",
        config_path.display()
    );
    Ok(())
}
