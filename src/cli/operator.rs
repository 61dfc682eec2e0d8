//! `voltvend operator`: staff accounts on this appliance.
//!
//! Runs locally against the store file; whoever can run it can already read and write that
//! file, so it acts as the appliance itself (`system:cli:<user>` in the audit log).

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use voltvend::auth::operators::{self, OperatorView};
use voltvend::auth::{Actor, Role};
use voltvend::store::Store;

/// Manage operators (staff accounts): add, reset passwords, list, disable.
#[derive(clap::Args)]
#[command(after_help = "\
Roles: admin (everything, including operators), cashier (sales, refunds, reversals,
accounts), viewer (reads only), installer (site model, meters, commands; no money).
A new or reset password must be changed by the operator at the next login; 5 failed
logins lock an operator out for 15 minutes (`operator passwd` lifts the lock).
Every change is recorded in the audit log (`voltvend audit verify`). See docs/operators.md.")]
pub struct Args {
    #[command(flatten)]
    pub location: StoreLocation,
    #[command(subcommand)]
    pub command: Cmd,
}

/// Which store file to use.
#[derive(clap::Args)]
pub struct StoreLocation {
    /// The store file [default: `paths.store` from the config, normally
    /// /var/lib/voltvend/voltvend.redb].
    #[arg(long, global = true, value_name = "PATH", env = "VOLTVEND_STORE")]
    pub store: Option<PathBuf>,
    /// The config file [default: $VOLTVEND_CONFIG, /etc/voltvend/voltvend.toml,
    /// /var/lib/voltvend/voltvend.toml, else built-in defaults].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl StoreLocation {
    /// `--store`, else the config's store path.
    pub fn path(&self) -> Result<PathBuf> {
        match &self.store {
            Some(p) => Ok(p.clone()),
            None => {
                let (config, _) =
                    voltvend::config::Config::load_or_default(self.config.as_deref())?;
                Ok(config.store_path())
            }
        }
    }
}

/// Where a new password comes from.
#[derive(clap::Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input (for scripts).
    #[arg(long, conflicts_with = "generate")]
    pub password_stdin: bool,
    /// Generate a random password and print it once.
    #[arg(long)]
    pub generate: bool,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Add an operator. Without --password-stdin or --generate, prompts twice on the terminal.
    ///
    /// Example: voltvend operator add alice --role cashier --generate
    Add {
        /// Login name: 1-32 letters, digits, '.', '_' or '-'.
        name: String,
        /// admin, cashier, viewer or installer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a new password for an operator (a reset: it must be changed at the next login;
    /// it also lifts a lockout and ends the operator's sessions).
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List operators with their role and state.
    List,
    /// Disable an operator: no more logins, sessions end. The last admin cannot be disabled.
    Disable { name: String },
    /// Enable a disabled operator again.
    Enable { name: String },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        format!("unknown role '{text}'; choose one of admin, cashier, viewer, installer")
    })
}

/// The audit actor for a local command: the Unix user who ran it, as far as we can tell.
pub fn cli_actor() -> Actor {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_string());
    Actor::system(&format!("cli:{user}"))
}

/// Opens an existing store; a mistyped path should not create an empty database.
pub fn open_existing(path: &Path) -> Result<Store> {
    if !path.exists() {
        bail!(
            "no voltvend store at {} (run `voltvend init` first, or pass --store PATH)",
            path.display()
        );
    }
    Store::open(path).with_context(|| format!("opening {}", path.display()))
}

pub fn run(args: Args) -> Result<()> {
    let path = args.location.path()?;
    match args.command {
        Cmd::Add {
            name,
            role,
            password,
        } => {
            operators::check_name(&name)?;
            let (pw, generated) = obtain_password(&password, &name)?;
            // Adding the first operator may come before anything else: create the store.
            let store =
                Store::open(&path).with_context(|| format!("opening {}", path.display()))?;
            operators::add(&store, &cli_actor(), &name, role, &pw)?;
            println!(
                "added operator '{name}' ({role}); the password must be changed at first login"
            );
            if generated {
                println!("password: {pw}");
                println!("(shown once; give it to {name} privately)");
            }
            Ok(())
        }
        Cmd::Passwd { name, password } => {
            let store = open_existing(&path)?;
            if operators::get(&store, &name)?.is_none() {
                bail!("no operator named '{name}'");
            }
            let (pw, generated) = obtain_password(&password, &name)?;
            operators::change_password(
                &store,
                &cli_actor(),
                &name,
                None,
                &pw,
                jiff::Timestamp::now(),
            )?;
            println!("password of '{name}' reset; it must be changed at the next login");
            if generated {
                println!("password: {pw}");
            }
            Ok(())
        }
        Cmd::List => {
            let store = open_existing(&path)?;
            print!("{}", render_list(&operators::list(&store)?));
            Ok(())
        }
        Cmd::Disable { name } => {
            let store = open_existing(&path)?;
            operators::set_disabled(&store, &cli_actor(), &name, true)?;
            println!("operator '{name}' disabled");
            Ok(())
        }
        Cmd::Enable { name } => {
            let store = open_existing(&path)?;
            operators::set_disabled(&store, &cli_actor(), &name, false)?;
            println!("operator '{name}' enabled");
            Ok(())
        }
    }
}

/// The operator table as printed by `operator list`.
pub fn render_list(ops: &[OperatorView]) -> String {
    if ops.is_empty() {
        return "no operators yet; add one with `voltvend operator add NAME --role admin`\n"
            .to_string();
    }
    let now = jiff::Timestamp::now();
    let mut out = format!(
        "{:<20} {:<10} {:<32} {}\n",
        "NAME", "ROLE", "STATE", "LAST LOGIN"
    );
    for op in ops {
        let state = if op.disabled {
            "disabled".to_string()
        } else if let Some(until) = op.locked_until.filter(|u| *u > now) {
            format!("locked until {}", until.strftime("%Y-%m-%d %H:%M:%SZ"))
        } else if op.must_change_password {
            "must change password".to_string()
        } else {
            "active".to_string()
        };
        let last = op.last_login.map_or_else(
            || "never".to_string(),
            |t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
        );
        out.push_str(&format!(
            "{:<20} {:<10} {:<32} {}\n",
            op.name,
            op.role.to_string(),
            state,
            last
        ));
    }
    out
}

/// The new password and whether we generated it.
fn obtain_password(src: &PasswordSource, name: &str) -> Result<(String, bool)> {
    if src.generate {
        return Ok((operators::generate_password(), true));
    }
    let pw = if src.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = prompt_hidden(&format!("new password for {name}: "))?;
        let again = prompt_hidden("again: ")?;
        if first != again {
            bail!("the two passwords differ; nothing changed");
        }
        first
    };
    operators::check_password(name, &pw)?;
    Ok((pw, false))
}

/// Reads a line from the controlling terminal with echo off.
fn prompt_hidden(prompt: &str) -> Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("no terminal to prompt for a password; use --password-stdin or --generate")?;
    let saved = tcgetattr(&tty)
        .context("no terminal to prompt for a password; use --password-stdin or --generate")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&tty, SetArg::TCSANOW, &quiet)?;
    let result = (|| -> Result<String> {
        let mut w = &tty;
        w.write_all(prompt.as_bytes())?;
        w.flush()?;
        let mut line = String::new();
        std::io::BufReader::new(&tty).read_line(&mut line)?;
        w.write_all(b"\n")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    })();
    tcsetattr(&tty, SetArg::TCSANOW, &saved)?;
    result
}
