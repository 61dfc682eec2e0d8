//! `voltvend read`: read one meter once and print every value of its profile (commissioning).
//!
//! A block the meter refuses or leaves unanswered does not hide the rest: what was read is
//! printed, each failed block is named with the reason, and the exit status is non-zero only
//! when nothing at all could be read.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, bail};
use voltvend::field::format::{self, decimal};
use voltvend::field::link::Via;
use voltvend::field::meter_io::{BusIo, OnSilence, ReadOutcome};
use voltvend::field::transport::RetryPolicy;
use voltvend::field::wire::LineTiming;
use voltvend::protocol::profile::{self, Group, Profile, ProfileSet, names};
use voltvend::site::model::{MeterAddress, Protocol};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolArg {
    Modbus,
    Dlt645,
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Protocol {
        match p {
            ProtocolArg::Modbus => Protocol::Modbus,
            ProtocolArg::Dlt645 => Protocol::Dlt645,
        }
    }
}

/// Options shared by `read` and `scan`: where the bus is and how patient to be.
#[derive(clap::Args, Debug, Clone)]
pub struct LinkArgs {
    /// tcp:HOST:PORT | rtu-over-tcp:HOST:PORT | serial:/dev/ttyX[@9600[,8E1]]
    #[arg(long)]
    pub via: String,
    #[arg(long, value_enum, default_value = "modbus")]
    pub protocol: ProtocolArg,
    /// Baud rate of the RS-485 bus behind a TCP gateway (for timeouts; serial links say it).
    #[arg(long)]
    pub bus_baud: Option<u32>,
    /// Attempts per request.
    #[arg(long, default_value_t = 3)]
    pub tries: u32,
    /// How long a meter may take to start answering, in ms (added to the wire time).
    #[arg(long, default_value_t = 50)]
    pub turnaround_ms: u64,
    /// A directory of extra meter profiles (*.toml).
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<std::path::PathBuf>,
}

impl LinkArgs {
    pub fn via(&self) -> anyhow::Result<Via> {
        self.via
            .parse::<Via>()
            .with_context(|| format!("--via {}", self.via))
    }

    pub fn bus(&self) -> anyhow::Result<BusIo> {
        let via = self.via()?;
        let timing = LineTiming::for_via(&via, self.bus_baud, None);
        let policy = RetryPolicy {
            tries: self.tries.max(1),
            turnaround: Duration::from_millis(self.turnaround_ms),
            ..RetryPolicy::default()
        };
        Ok(BusIo::new(via, self.protocol.into(), timing, policy))
    }

    pub fn profiles(&self) -> anyhow::Result<ProfileSet> {
        let mut set = ProfileSet::builtin();
        if let Some(dir) = &self.profiles {
            set.load_dir(dir)?;
        }
        Ok(set)
    }

    /// The profile named, or the protocol's built-in default.
    pub fn profile(&self, name: Option<&str>) -> anyhow::Result<Profile> {
        let set = self.profiles()?;
        let name = name.unwrap_or(match self.protocol {
            ProtocolArg::Modbus => profile::DEFAULT_MODBUS_1P,
            ProtocolArg::Dlt645 => profile::DEFAULT_DLT645,
        });
        let p = set.get(name).cloned().with_context(|| {
            format!(
                "no meter profile '{name}' (known: {})",
                set.names().collect::<Vec<_>>().join(", ")
            )
        })?;
        let want = match self.protocol {
            ProtocolArg::Modbus => profile::ProfileProtocol::Modbus,
            ProtocolArg::Dlt645 => profile::ProfileProtocol::Dlt645,
        };
        if p.protocol != want {
            bail!(
                "profile '{name}' speaks {}, not {:?}",
                p.protocol,
                self.protocol
            );
        }
        Ok(p)
    }
}

/// Read one meter once and print every value of its profile.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub link: LinkArgs,
    /// Modbus address 1-247, or the 12-digit DL/T 645 meter address.
    #[arg(long)]
    pub address: String,
    /// Meter profile (default: the built-in 1-phase prepaid for Modbus, DL/T 645-2007 prepaid).
    #[arg(long)]
    pub profile: Option<String>,
    /// One JSON object instead of a listing.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let address = MeterAddress::parse(&args.address, args.link.protocol.into())
        .map_err(|e| anyhow::anyhow!("--address: {e}"))?;
    let profile = args.link.profile(args.profile.as_deref())?;
    let mut bus = args.link.bus()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let address = address.to_string();
    let blocks = profile.plan_reads(Group::Full, profile::MODBUS_MAX_READ_REGISTERS);
    let out = rt.block_on(async {
        bus.connect().await?;
        Ok::<_, voltvend::field::FieldError>(
            bus.read_blocks(&address, &profile, &blocks, OnSilence::TryAll)
                .await,
        )
    })?;
    if args.json {
        println!("{}", json(&address, &profile, &out));
    } else {
        print!("{}", listing(&address, &args.link.via, &profile, &out));
    }
    if out.values.is_empty() {
        let first = out
            .failures
            .first()
            .map(|f| f.error.to_string())
            .unwrap_or_else(|| "the profile has nothing to read".into());
        bail!("nothing could be read from address {address}: {first}");
    }
    Ok(())
}

/// One line per value in profile order: name, value, unit.
fn listing(address: &str, via: &str, profile: &Profile, out: &ReadOutcome) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "meter {address} on {via} ({}, {} {})",
        profile.name,
        profile.manufacturer,
        profile.models.first().map(String::as_str).unwrap_or("")
    );
    for r in &profile.registers {
        let Some(v) = out.get(&r.name) else { continue };
        let (text, unit) = if r.name == names::RELAY_OPEN {
            (relay_text(v).to_string(), "")
        } else {
            format::display(r.quantity(), v)
        };
        let _ = writeln!(s, "  {:<16} {:>14} {unit}", r.name, text);
    }
    for f in &out.failures {
        let _ = writeln!(
            s,
            "  FAILED {} ({}): {}",
            f.block,
            f.registers.join(", "),
            f.error
        );
    }
    for line in unsupported_lines(profile, out) {
        let _ = writeln!(s, "  {line}");
    }
    s
}

/// One line per block the meter does not implement, saying whether the profile has it
/// from a public map or assumed it (also used by `voltvend scan`).
pub fn unsupported_lines(profile: &Profile, out: &ReadOutcome) -> Vec<String> {
    out.unsupported
        .iter()
        .map(|(block, regs)| {
            let assumed = regs
                .iter()
                .filter_map(|n| profile.register(n))
                .any(|r| !r.documented());
            format!(
                "UNSUPPORTED {block} ({}): the meter has no such registers; {}; the daemon \
                 leaves them out of its sweeps and retries them once a day",
                regs.join(", "),
                if assumed {
                    "the profile assumed them (not in a public register map)"
                } else {
                    "the profile has them from the documented map"
                }
            )
        })
        .collect()
}

fn relay_text(v: i64) -> &'static str {
    if v != 0 { "open" } else { "closed" }
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The JSON object. Numbers are written from exact integers as decimal text (JSON numbers
/// with the meter's own decimals), never through a float.
fn json(address: &str, profile: &Profile, out: &ReadOutcome) -> String {
    let live = out.live_values();
    let mut fields: Vec<(String, String)> = vec![
        ("address".into(), json_str(address)),
        ("profile".into(), json_str(&profile.name)),
    ];
    if let Some(t) = out.total() {
        fields.push(("energy_total_kwh".into(), format::kwh(t)));
    }
    let per_phase = |v: &[i64], scale: u32| -> Option<String> {
        match v {
            [] => None,
            [one] => Some(decimal(*one, scale)),
            many => Some(format!(
                "[{}]",
                many.iter()
                    .map(|x| decimal(*x, scale))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        }
    };
    if let Some(v) = per_phase(&live.voltage_dv, 1) {
        fields.push(("voltage_v".into(), v));
    }
    if let Some(v) = per_phase(&live.current_ma, 3) {
        fields.push(("current_a".into(), v));
    }
    if let Some(p) = live.power_w {
        fields.push(("power_kw".into(), decimal(p, 3)));
    }
    if let Some(b) = live.balance {
        fields.push(("balance_yuan".into(), decimal(b.0, 2)));
    }
    if let Some(c) = live.purchase_count {
        fields.push(("purchase_count".into(), c.to_string()));
    }
    if let Some(r) = live.relay {
        fields.push(("relay".into(), json_str(r.as_str())));
    }
    let values: Vec<String> = profile
        .registers
        .iter()
        .filter_map(|r| {
            let v = out.get(&r.name)?;
            let (text, _) = format::display(r.quantity(), v);
            Some(format!("{}:{text}", json_str(&r.name)))
        })
        .collect();
    fields.push(("values".into(), format!("{{{}}}", values.join(","))));
    let failed: Vec<String> = out
        .failures
        .iter()
        .map(|f| {
            format!(
                "{{\"block\":{},\"registers\":[{}],\"error\":{}}}",
                json_str(&f.block),
                f.registers
                    .iter()
                    .map(|r| json_str(r))
                    .collect::<Vec<_>>()
                    .join(","),
                json_str(&f.error.to_string())
            )
        })
        .collect();
    fields.push(("failed".into(), format!("[{}]", failed.join(","))));
    let unsupported: Vec<String> = out
        .unsupported
        .iter()
        .map(|(block, _)| json_str(block))
        .collect();
    fields.push(("unsupported".into(), format!("[{}]", unsupported.join(","))));
    let body: Vec<String> = fields
        .into_iter()
        .map(|(k, v)| format!("{}:{v}", json_str(&k)))
        .collect();
    format!("{{{}}}", body.join(","))
}
