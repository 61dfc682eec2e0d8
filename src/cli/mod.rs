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

fn log_filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Logs go to the file `log` (appended; same filter), and to stderr too when `echo`.
///
/// For `voltvend demo`: a line per bus cycle is right for an installer watching a site, but
/// buries the demo's banner for the person trying it.
pub fn init_logging_to_file(log: &std::path::Path, echo: bool) -> std::io::Result<()> {
    use tracing_subscriber::prelude::*;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let to_file = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file));
    let to_terminal = echo.then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    let _ = tracing_subscriber::registry()
        .with(log_filter())
        .with(to_file)
        .with(to_terminal)
        .try_init();
    Ok(())
}
