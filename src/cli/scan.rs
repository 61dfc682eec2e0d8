//! `voltvend scan`: find the meters that answer on a bus and print address, model, serial.
//!
//! Modbus: every address from --from to --to gets one short read of the energy total (one
//! try each, so a 247-address scan at 9600 baud takes about half a minute). DL/T 645: without
//! a range, the read-address request (C = 0x13 to AA…AA) that the single meter on a bus
//! answers; with --from/--to, each 12-digit address in the range is read. Each meter found is
//! asked for the blocks its profile assumed (not in a public map), and those it does not
//! implement are listed.

use anyhow::{Context, bail};
use voltvend::field::format;
use voltvend::field::meter_io::OnSilence;
use voltvend::protocol::profile::{self, Group, Provenance, names};

use super::read::{LinkArgs, ProtocolArg};

/// Find the meters that answer on a bus.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub link: LinkArgs,
    /// First address to try (Modbus 1-247; DL/T 645: a meter number).
    #[arg(long)]
    pub from: Option<u64>,
    /// Last address to try.
    #[arg(long)]
    pub to: Option<u64>,
    /// Meter profile used to identify what answers.
    #[arg(long)]
    pub profile: Option<String>,
}

pub fn run(mut args: Args) -> anyhow::Result<()> {
    // A scan asks each address once: silence is the common answer, not an error.
    args.link.tries = 1;
    let profile = args.link.profile(args.profile.as_deref())?;
    let model = profile
        .models
        .first()
        .cloned()
        .unwrap_or_else(|| profile.name.clone());
    let mut bus = args.link.bus()?;
    let via = args.link.via.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let serial_reg = ["serial_number", "user_code"]
        .into_iter()
        .find(|n| profile.register(n).is_some());
    let mut wanted: Vec<&str> = vec![names::ENERGY_TOTAL];
    wanted.extend(serial_reg);
    let probe = profile.plan_reads_for(&wanted, profile::MODBUS_MAX_READ_REGISTERS);
    let assumed_live = profile.plan_reads(Group::Live, profile::MODBUS_MAX_READ_REGISTERS);
    let found = rt.block_on(async {
        bus.connect().await?;
        let mut found: Vec<(String, String)> = Vec::new();
        let addresses: Vec<String> = match (args.link.protocol, args.from, args.to) {
            (ProtocolArg::Modbus, f, t) => {
                let (f, t) = (f.unwrap_or(1), t.unwrap_or(247));
                if !(1..=247).contains(&f) || !(1..=247).contains(&t) || f > t {
                    return Err(voltvend::field::FieldError::Other(format!(
                        "--from {f} --to {t}: Modbus addresses are 1-247, from ≤ to"
                    )));
                }
                (f..=t).map(|a| a.to_string()).collect()
            }
            (ProtocolArg::Dlt645, Some(f), Some(t)) if f <= t && t < 1_000_000_000_000 => {
                (f..=t).map(|a| format!("{a:012}")).collect()
            }
            (ProtocolArg::Dlt645, None, None) => {
                let Some(b) = bus.dlt645_mut() else {
                    unreachable!("a DL/T 645 scan opens a DL/T 645 bus")
                };
                match b.read_address().await {
                    Ok(a) => vec![a],
                    Err(e) => {
                        eprintln!("no meter answered the read-address request: {e}");
                        Vec::new()
                    }
                }
            }
            _ => {
                return Err(voltvend::field::FieldError::Other(
                    "give both --from and --to (12-digit meter numbers), or neither".into(),
                ));
            }
        };
        for a in addresses {
            let out = bus
                .read_blocks(&a, &profile, &probe, OnSilence::GiveUp)
                .await;
            if !out.answered() {
                continue;
            }
            let serial = match args.link.protocol {
                ProtocolArg::Dlt645 => a.clone(),
                ProtocolArg::Modbus => serial_reg
                    .and_then(|n| out.get(n).map(|v| format!("{n}={v}")))
                    .unwrap_or_else(|| "-".into()),
            };
            let energy = out
                .total()
                .map(|t| format!("  energy {} kWh", format::kwh(t)))
                .unwrap_or_default();
            println!("address {a}  model {model}  serial {serial}{energy}");
            // The blocks the profile assumed (not in a public map): does this meter have them?
            let assumed: Vec<_> = assumed_live
                .iter()
                .filter(|b| profile.provenance(b) == Provenance::Assumed)
                .cloned()
                .collect();
            let extra = bus
                .read_blocks(&a, &profile, &assumed, OnSilence::TryAll)
                .await;
            for line in super::read::unsupported_lines(&profile, &extra) {
                println!("  {line}");
            }
            found.push((a, serial));
        }
        Ok(found)
    })?;
    println!("{} meter(s) answered on {via}", found.len());
    if found.is_empty() {
        bail!("no meter answered on {via}");
    }
    Ok(())
}
