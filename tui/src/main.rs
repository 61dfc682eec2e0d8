//! `voltvend-tui`: the staff console. Connects to the daemon's Unix socket (default) or an
//! HTTP URL, then runs the terminal UI.

use clap::Parser;
use std::path::PathBuf;
use voltvend_tui::api::{Client, Endpoint};
use voltvend_tui::app::App;

#[derive(Parser)]
#[command(version, about = "voltvend staff console")]
struct Args {
    /// Operator API Unix socket of the daemon.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/run/voltvend/api.sock",
        conflicts_with = "api"
    )]
    socket: PathBuf,
    /// Operator API base URL instead of the socket, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    api: Option<String>,
    /// Operator name to put in the login form.
    #[arg(long)]
    user: Option<String>,
    /// Colour depth: 256 or 16 (default: 256 when $TERM or $COLORTERM says so).
    #[arg(long)]
    colors: Option<u16>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let endpoint = match &args.api {
        Some(u) => Endpoint::from_url(u).map_err(anyhow::Error::msg)?,
        None => Endpoint::Socket(args.socket.clone()),
    };
    let client = Client::new(endpoint);
    let mut app = App::new();
    app.colors256 = match args.colors {
        Some(16) => false,
        Some(256) => true,
        Some(n) => anyhow::bail!("--colors {n}: use 16 or 256"),
        None => {
            let term = std::env::var("TERM").unwrap_or_default();
            let ct = std::env::var("COLORTERM").unwrap_or_default();
            term.contains("256") || ct.contains("truecolor") || ct.contains("24bit")
        }
    };
    if let Some(u) = args.user {
        app.form.name = u;
        app.form.focus = 1;
    }
    voltvend_tui::event::run(&mut app, Box::new(client))?;
    Ok(())
}
