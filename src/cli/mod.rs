//! Subcommands of the `voltvend` binary, one module each.

pub mod audit;
pub mod check;
pub mod collect;
pub mod demo;
pub mod gateway;
pub mod import;
pub mod init;
pub mod ledger;
pub mod operator;
pub mod read;
pub mod report;
pub mod scan;
pub mod serve;
pub mod sim;
pub mod tariff;

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
