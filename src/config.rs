//! The site configuration file (TOML): every key documented and defaulted.
//!
//! One file, normally `/etc/voltvend/voltvend.toml` (see [`locate`]). Every section and key
//! may be left out; the defaults below apply. Unknown keys are errors, so a misspelt key
//! never silently does nothing. `voltvend check` reports every bad key or value with
//! `file:line:col`, what is wrong and what to do ([`check_text`]). docs/config.md lists
//! the keys; [`DEFAULT_TOML`] is the commented file `voltvend init` writes.
//!
//! Settings that staff change at run time (alarm amounts, the default tariff, the hoarding
//! cap) live in the store as `site::SiteDefaults`, not here. Where a key here overlaps one
//! of those (`site.timezone`, `collector.interval`), the key here, when set, wins; see
//! [`Config::apply_to`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::toml_pos::line_col;

/// Where the config file is looked for when no `--config` is given, in order: the
/// `VOLTVEND_CONFIG` environment variable, then these paths.
pub const SEARCH_PATHS: [&str; 2] = [
    "/etc/voltvend/voltvend.toml",
    "/var/lib/voltvend/voltvend.toml",
];

/// The config file name `voltvend init` writes into the data directory.
pub const FILE_NAME: &str = "voltvend.toml";

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub site: SiteSection,
    pub paths: PathsSection,
    pub api: ApiSection,
    pub collector: CollectorSection,
    pub alarms: AlarmsSection,
    pub printer: PrinterSection,
    pub payment: PaymentSection,
    pub sms: SmsSection,
    pub archive: ArchiveSection,
}

/// `[site]`: what the site is called and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteSection {
    /// Name printed on receipts, reports and the kiosk.
    pub name: String,
    /// IANA time zone for TOU periods, days and months. When set, it overrides the
    /// time zone in the site defaults (default there: Asia/Shanghai).
    pub timezone: Option<String>,
}

impl Default for SiteSection {
    fn default() -> Self {
        SiteSection {
            name: "voltvend site".to_string(),
            timezone: None,
        }
    }
}

/// `[paths]`: where the appliance keeps its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathsSection {
    /// Directory for the store, backups and site meter profiles.
    pub data_dir: PathBuf,
    /// The redb store file; relative paths are inside `data_dir`.
    pub store: PathBuf,
    /// Extra meter profiles (*.toml) besides the built-in ones; relative to `data_dir`.
    pub profiles_dir: PathBuf,
    /// Where `voltvend backup` writes copies of the store; relative to `data_dir`.
    pub backup_dir: PathBuf,
}

impl Default for PathsSection {
    fn default() -> Self {
        PathsSection {
            data_dir: PathBuf::from("/var/lib/voltvend"),
            store: PathBuf::from("voltvend.redb"),
            profiles_dir: PathBuf::from("profiles"),
            backup_dir: PathBuf::from("backups"),
        }
    }
}

/// `[api]`: the operator and tenant API (and the kiosk it serves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSection {
    /// TCP address the API and kiosk listen on, `IP:PORT`.
    pub listen: String,
    /// Unix socket for local clients (the staff TUI over SSH); empty = none.
    pub socket: PathBuf,
    /// An operator session ends after this long without a request.
    pub session_idle: Dur,
}

impl Default for ApiSection {
    fn default() -> Self {
        ApiSection {
            listen: "127.0.0.1:8080".to_string(),
            socket: PathBuf::from("/run/voltvend/api.sock"),
            session_idle: Dur::mins(15),
        }
    }
}

/// `[collector]`: how meters are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectorSection {
    /// Time between two full reading rounds. When set, it overrides the collection
    /// interval in the site defaults (default there: 30m).
    pub interval: Option<Dur>,
    /// Live values (power, current) are swept no more often than this per bus, however
    /// many screens ask for them.
    pub live_sweep_floor: Dur,
    /// Retries of a request that got no (or a bad) answer, before it counts as failed.
    pub retries: u32,
    /// A meter is marked offline after this many failed requests in a row.
    pub offline_after: u32,
    /// How long to wait for a TCP gateway to accept a connection.
    pub connect_timeout: Dur,
    /// Extra wait for an answer beyond the wire time computed from the baud rate (meters
    /// and serial servers need some time to think).
    pub answer_slack: Dur,
    /// Master key of the secure gateway link (32 hex digits; the same file is given to
    /// `voltvend gateway --key-file`); relative to `data_dir`. Only needed with secure
    /// gateways.
    pub link_key_file: PathBuf,
}

impl Default for CollectorSection {
    fn default() -> Self {
        CollectorSection {
            interval: None,
            live_sweep_floor: Dur::secs(2),
            retries: 2,
            offline_after: 3,
            connect_timeout: Dur::secs(5),
            answer_slack: Dur::millis(300),
            link_key_file: PathBuf::from("keys/link.key"),
        }
    }
}

/// `[alarms]`: grace times before alarms and trips.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlarmsSection {
    /// Time between a balance falling below zero and the trip of its meters.
    pub trip_grace: Dur,
    /// Arrears a host-billed tenant may run up before the trip, in yuan (`0.00` = none).
    pub trip_grace_amount: Yuan,
    /// Consecutive readings above a meter's power limit before an overload alarm (0 = off).
    pub overload_readings: u32,
    /// Trip an overloaded meter (else the alarm only).
    pub overload_trip: bool,
    /// Meter mode: largest accepted difference between a meter's balance and the ledger's.
    pub drift_tolerance: Yuan,
    /// A meter or gateway must be unreachable this long before an offline alarm.
    pub offline_grace: Dur,
    /// An alarm still active is sent again after this long.
    pub repeat_every: Dur,
    /// No tenant SMS in this daily window (site time), `HH:MM-HH:MM`; empty = none.
    /// Messages wait until the window ends.
    pub quiet_hours: String,
}

impl Default for AlarmsSection {
    fn default() -> Self {
        AlarmsSection {
            trip_grace: Dur::mins(5),
            trip_grace_amount: Yuan::default(),
            overload_readings: 3,
            overload_trip: false,
            drift_tolerance: Yuan(crate::units::Fen(1_000)),
            offline_grace: Dur::mins(10),
            repeat_every: Dur::hours(24),
            quiet_hours: "22:00-07:00".to_string(),
        }
    }
}

/// `[archive]`: raw readings rolled up into daily/monthly rows (kept forever), then removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveSection {
    /// Raw readings older than this are removed once their days are rolled up.
    pub raw_retention: Dur,
    /// Time between two rollup and clean-up passes.
    pub every: Dur,
    /// Readings removed per write transaction (small, so the collector never waits long).
    pub batch: u32,
}

impl Default for ArchiveSection {
    fn default() -> Self {
        ArchiveSection {
            raw_retention: Dur(Duration::from_secs(400 * 86_400)),
            every: Dur::hours(1),
            batch: 2_000,
        }
    }
}

/// `[printer]`: the receipt printer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrinterSection {
    /// `none`, `file:/dev/usb/lp0` (a device or file), or `tcp:HOST:PORT` (port 9100).
    pub target: String,
    /// Characters per line of the paper (32 for 58 mm, 48 for 80 mm).
    pub chars_per_line: u32,
}

impl Default for PrinterSection {
    fn default() -> Self {
        PrinterSection {
            target: "none".to_string(),
            chars_per_line: 32,
        }
    }
}

/// `[payment]`: how the kiosk takes money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSection {
    /// `sandbox` (simulated payments, for demo and tests) or `none` (cash at the counter
    /// only).
    pub provider: String,
}

impl Default for PaymentSection {
    fn default() -> Self {
        PaymentSection {
            provider: "sandbox".to_string(),
        }
    }
}

/// `[sms]`: the GSM modem for alarm SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSection {
    /// Serial port of the modem, e.g. `/dev/ttyUSB2`; empty = no SMS.
    pub modem: PathBuf,
    /// Baud rate of the modem port.
    pub baud: u32,
    /// SMS centre number; empty = the one stored on the SIM.
    pub smsc: String,
}

impl Default for SmsSection {
    fn default() -> Self {
        SmsSection {
            modem: PathBuf::new(),
            baud: 115_200,
            smsc: String::new(),
        }
    }
}

/// A duration written `250ms`, `30s`, `5m`, `2h` or `1d` (whole numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn millis(n: u64) -> Dur {
        Dur(Duration::from_millis(n))
    }
    pub const fn secs(n: u64) -> Dur {
        Dur(Duration::from_secs(n))
    }
    pub const fn mins(n: u64) -> Dur {
        Dur(Duration::from_secs(n * 60))
    }
    pub const fn hours(n: u64) -> Dur {
        Dur(Duration::from_secs(n * 3600))
    }

    pub fn parse(text: &str) -> Result<Dur, String> {
        let t = text.trim();
        let bad = || format!("'{text}' is not a duration (e.g. 250ms, 30s, 5m, 2h, 1d)");
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (num, unit) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let ms_per = match unit.trim() {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        n.checked_mul(ms_per)
            .map(|ms| Dur(Duration::from_millis(ms)))
            .ok_or_else(bad)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, per) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
        ] {
            if ms >= per && ms.is_multiple_of(per) {
                return write!(f, "{}{unit}", ms / per);
            }
        }
        if ms == 0 {
            return f.write_str("0s");
        }
        write!(f, "{ms}ms")
    }
}

impl Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        let s = String::deserialize(d)?;
        Dur::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount of money written in yuan, `"12.50"` (exact: parsed to fen, never a float).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Yuan(pub crate::units::Fen);

impl Serialize for Yuan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Yuan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Yuan, D::Error> {
        let s = String::deserialize(d)?;
        crate::units::Fen::parse_signed(&s)
            .map(Yuan)
            .map_err(|e| serde::de::Error::custom(format!("'{s}' is not an amount in yuan: {e}")))
    }
}

/// One problem in a config file, with its place and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// Dotted key, e.g. `collector.retries`; empty for a syntax error.
    pub key: String,
    pub why: String,
    pub fix: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        write!(f, "{}", self.why)?;
        if !self.fix.is_empty() {
            write!(f, "; {}", self.fix)?;
        }
        Ok(())
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{} problem(s) in {file}:\n{}", problems.len(), problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid {
        file: String,
        problems: Vec<ConfigProblem>,
    },
}

const SECTIONS: [&str; 9] = [
    "site",
    "paths",
    "api",
    "collector",
    "alarms",
    "printer",
    "payment",
    "sms",
    "archive",
];

fn fix_for(key: &str) -> String {
    let section = key.split('.').next().unwrap_or("");
    if SECTIONS.contains(&section) {
        format!("see docs/config.md#{section}")
    } else {
        "see docs/config.md".to_string()
    }
}

/// Shortens serde's messages to the part a person needs.
fn plain(msg: &str) -> String {
    msg.trim().trim_end_matches('.').replace('`', "'")
}

/// Parses and checks config `text` (named `file` in messages). Returns the config, or
/// every problem: syntax errors, unknown sections and keys, values of the wrong type or
/// out of range, each with its line and column.
pub fn check_text(file: &str, text: &str) -> Result<Config, Vec<ConfigProblem>> {
    use serde::de::IntoDeserializer;
    use toml::Spanned;
    use toml::de::{DeTable, DeValue};

    let at = |offset: usize, key: &str, why: String, fix: String| {
        let (line, col) = line_col(text, offset);
        ConfigProblem {
            file: file.to_string(),
            line,
            col,
            key: key.to_string(),
            why,
            fix,
        }
    };
    let (root, syntax) = DeTable::parse_recoverable(text);
    let mut problems: Vec<ConfigProblem> = syntax
        .iter()
        .map(|e| {
            at(
                e.span().map_or(0, |s| s.start),
                "",
                plain(e.message()),
                "fix the TOML syntax".to_string(),
            )
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let root = root.into_inner();

    // Each key is deserialized on its own (inside an otherwise empty document), so one bad
    // key does not hide the next and each error belongs to exactly one key.
    let one = |section: &Spanned<toml::de::DeString<'_>>,
               key: Option<(&Spanned<toml::de::DeString<'_>>, &Spanned<DeValue<'_>>)>,
               value: &Spanned<DeValue<'_>>|
     -> Result<(), toml::de::Error> {
        let inner = match key {
            Some((k, v)) => {
                let mut t = DeTable::new();
                t.insert(k.clone(), v.clone());
                Spanned::new(value.span(), DeValue::Table(t))
            }
            None => value.clone(),
        };
        let mut doc = DeTable::new();
        doc.insert(section.clone(), inner);
        let whole = Spanned::new(0..text.len(), doc);
        Config::deserialize(whole.into_deserializer()).map(|_| ())
    };
    for (section, value) in root.iter() {
        let name = section.get_ref().to_string();
        if !SECTIONS.contains(&name.as_str()) {
            problems.push(at(
                section.span().start,
                &name,
                format!("unknown section '{name}'"),
                format!(
                    "remove it or check the spelling (sections: {})",
                    SECTIONS.join(", ")
                ),
            ));
            continue;
        }
        let DeValue::Table(keys) = value.get_ref() else {
            problems.push(at(
                value.span().start,
                &name,
                format!("'{name}' must be a section ([{name}])"),
                fix_for(&name),
            ));
            continue;
        };
        for (k, v) in keys.iter() {
            let dotted = format!("{name}.{}", k.get_ref());
            if let Err(e) = one(section, Some((k, v)), value) {
                let msg = plain(e.message());
                let (offset, fix) = if msg.starts_with("unknown field") {
                    (
                        k.span().start,
                        format!("remove it or check the spelling ({})", fix_for(&dotted)),
                    )
                } else {
                    (v.span().start, fix_for(&dotted))
                };
                problems.push(at(offset, &dotted, msg, fix));
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.line, p.col));
        return Err(problems);
    }
    let config = match toml::from_str::<Config>(text) {
        Ok(c) => c,
        Err(e) => {
            return Err(vec![at(
                e.span().map_or(0, |s| s.start),
                "",
                plain(e.message()),
                "see docs/config.md".to_string(),
            )]);
        }
    };
    // Checks of values that parse but make no sense, placed at the key's value.
    for (key, why) in config.problems() {
        let offset = key
            .split_once('.')
            .and_then(|(s, k)| {
                let DeValue::Table(t) = root.get(s)?.get_ref() else {
                    return None;
                };
                t.get(k).map(|v| v.span().start)
            })
            .unwrap_or(0);
        problems.push(at(offset, key, why, fix_for(key)));
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        problems.sort_by_key(|p| (p.line, p.col));
        Err(problems)
    }
}

fn check_quiet_hours(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    let bad = || format!("'{text}' is not a time window (HH:MM-HH:MM, e.g. 22:00-07:00)");
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    for t in [a, b] {
        let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
        match (h.parse::<u8>(), m.parse::<u8>()) {
            (Ok(h), Ok(m)) if h < 24 && m < 60 && m.to_string().len() <= 2 => {}
            _ => return Err(bad()),
        }
    }
    Ok(())
}

fn check_host_port(text: &str) -> bool {
    match text.rsplit_once(':') {
        Some((h, p)) => !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0),
        None => false,
    }
}

impl Config {
    /// Checks values that parse but make no sense; returns (dotted key, why).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.site.name.trim().is_empty() {
            out.push(("site.name", "the site name is empty".to_string()));
        }
        if let Some(tz) = &self.site.timezone
            && jiff::tz::TimeZone::get(tz).is_err()
        {
            out.push((
                "site.timezone",
                format!("'{tz}' is not a known time zone (e.g. Asia/Shanghai)"),
            ));
        }
        if !self.paths.data_dir.is_absolute() {
            out.push((
                "paths.data_dir",
                format!(
                    "'{}' is not an absolute path",
                    self.paths.data_dir.display()
                ),
            ));
        }
        if self.paths.store.as_os_str().is_empty() {
            out.push(("paths.store", "the store path is empty".to_string()));
        }
        if self.api.listen.parse::<std::net::SocketAddr>().is_err() {
            out.push((
                "api.listen",
                format!(
                    "'{}' is not an IP:PORT address (e.g. 127.0.0.1:8080)",
                    self.api.listen
                ),
            ));
        }
        if self.api.session_idle.0 < Duration::from_secs(60) {
            out.push(("api.session_idle", "must be at least 1m".to_string()));
        }
        if let Some(i) = self.collector.interval
            && i.0 < Duration::from_secs(60)
        {
            out.push((
                "collector.interval",
                format!("'{i}' is too short (at least 1m)"),
            ));
        }
        if self.collector.retries > 10 {
            out.push((
                "collector.retries",
                format!("'{}' is too many (0-10)", self.collector.retries),
            ));
        }
        if self.collector.offline_after == 0 {
            out.push(("collector.offline_after", "must be at least 1".to_string()));
        }
        if self.collector.connect_timeout.0.is_zero() {
            out.push(("collector.connect_timeout", "must be above 0".to_string()));
        }
        if let Err(why) = check_quiet_hours(&self.alarms.quiet_hours) {
            out.push(("alarms.quiet_hours", why));
        }
        if self.alarms.repeat_every.0 < Duration::from_secs(60) {
            out.push(("alarms.repeat_every", "must be at least 1m".to_string()));
        }
        if self.archive.raw_retention.0 < Duration::from_secs(31 * 86_400) {
            out.push((
                "archive.raw_retention",
                "must be at least 31d (reports read raw readings for days not rolled up)"
                    .to_string(),
            ));
        }
        if self.archive.every.0 < Duration::from_secs(60) {
            out.push(("archive.every", "must be at least 1m".to_string()));
        }
        if !(1..=100_000).contains(&self.archive.batch) {
            out.push((
                "archive.batch",
                format!("'{}' is out of range (1-100000)", self.archive.batch),
            ));
        }
        let t = self.printer.target.as_str();
        let target_ok = t == "none"
            || t.strip_prefix("file:").is_some_and(|p| p.starts_with('/'))
            || t.strip_prefix("tcp:").is_some_and(check_host_port);
        if !target_ok {
            out.push((
                "printer.target",
                format!("'{t}' is not a printer target (none, file:/dev/usb/lp0 or tcp:HOST:9100)"),
            ));
        }
        if !(16..=64).contains(&self.printer.chars_per_line) {
            out.push((
                "printer.chars_per_line",
                format!("'{}' is out of range (16-64)", self.printer.chars_per_line),
            ));
        }
        if !["sandbox", "none"].contains(&self.payment.provider.as_str()) {
            out.push((
                "payment.provider",
                format!(
                    "'{}' is not a payment provider (sandbox or none)",
                    self.payment.provider
                ),
            ));
        }
        if !self.sms.modem.as_os_str().is_empty() && !self.sms.modem.is_absolute() {
            out.push((
                "sms.modem",
                format!("'{}' is not an absolute path", self.sms.modem.display()),
            ));
        }
        if crate::site::model::parse_baud(&self.sms.baud.to_string()).is_err() {
            out.push((
                "sms.baud",
                format!("'{}' is not a baud rate", self.sms.baud),
            ));
        }
        if !self.sms.smsc.is_empty()
            && let Err(why) = crate::site::model::parse_phone(&self.sms.smsc)
        {
            out.push(("sms.smsc", why));
        }
        out
    }

    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        check_text(&file, &text).map_err(|problems| ConfigError::Invalid { file, problems })
    }

    /// Loads the config named by `explicit`, else the one [`locate`] finds, else the
    /// defaults. Returns the config and the file it came from.
    pub fn load_or_default(
        explicit: Option<&Path>,
    ) -> Result<(Config, Option<PathBuf>), ConfigError> {
        match locate(explicit) {
            Some(p) => Ok((Config::load(&p)?, Some(p))),
            None => Ok((Config::default(), None)),
        }
    }

    /// The store file.
    pub fn store_path(&self) -> PathBuf {
        self.paths.data_dir.join(&self.paths.store)
    }

    /// The secure gateway link key file.
    pub fn link_key_path(&self) -> PathBuf {
        self.paths.data_dir.join(&self.collector.link_key_file)
    }

    /// The directory of site meter profiles.
    pub fn profiles_dir(&self) -> PathBuf {
        self.paths.data_dir.join(&self.paths.profiles_dir)
    }

    /// The backup directory.
    pub fn backup_dir(&self) -> PathBuf {
        self.paths.data_dir.join(&self.paths.backup_dir)
    }

    /// The site defaults with this file's overrides (`site.timezone`,
    /// `collector.interval`) applied.
    pub fn apply_to(&self, mut d: crate::site::SiteDefaults) -> crate::site::SiteDefaults {
        if let Some(tz) = &self.site.timezone {
            d.timezone = tz.clone();
        }
        if let Some(i) = self.collector.interval {
            d.collection_interval_s = u32::try_from(i.0.as_secs()).unwrap_or(u32::MAX);
        }
        d
    }
}

/// The config file to use: `explicit` if given, else `$VOLTVEND_CONFIG`, else the first
/// of [`SEARCH_PATHS`] that exists; None = use the defaults.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("VOLTVEND_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    SEARCH_PATHS.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// The commented config file `voltvend init` writes. Every key is present with its
/// default value (optional ones commented out), so the file documents itself.
pub const DEFAULT_TOML: &str = r#"# voltvend configuration. Every key is optional; the values shown are the defaults.
# Check this file with `voltvend check --config FILE`. Keys are described in docs/config.md.

[site]
# Name printed on receipts, reports and the kiosk.
name = "voltvend site"
# IANA time zone for TOU periods, days and months. When set, it overrides the time zone
# in the site defaults (default there: Asia/Shanghai).
# timezone = "Asia/Shanghai"

[paths]
# Directory for the store, backups and site meter profiles.
data_dir = "/var/lib/voltvend"
# The redb store file; relative paths are inside data_dir.
store = "voltvend.redb"
# Extra meter profiles (*.toml) besides the built-in ones; relative to data_dir.
profiles_dir = "profiles"
# Where `voltvend backup` writes copies of the store; relative to data_dir.
backup_dir = "backups"

[api]
# TCP address the API and kiosk listen on, IP:PORT.
listen = "127.0.0.1:8080"
# Unix socket for local clients (the staff TUI over SSH); empty = none.
socket = "/run/voltvend/api.sock"
# An operator session ends after this long without a request.
session_idle = "15m"

[collector]
# Time between two full reading rounds. When set, it overrides the collection interval
# in the site defaults (default there: 30m).
# interval = "30m"
# Live values (power, current) are swept no more often than this per bus.
live_sweep_floor = "2s"
# Retries of a request that got no (or a bad) answer, before it counts as failed.
retries = 2
# A meter is marked offline after this many failed requests in a row.
offline_after = 3
# How long to wait for a TCP gateway to accept a connection.
connect_timeout = "5s"
# Extra wait for an answer beyond the wire time computed from the baud rate.
answer_slack = "300ms"
# Master key of the secure gateway link (32 hex digits, the file given to
# `voltvend gateway --key-file`); relative to data_dir. Only needed with secure gateways.
link_key_file = "keys/link.key"

[alarms]
# Time between a balance falling below zero and the trip of its meters.
trip_grace = "5m"
# Arrears a host-billed tenant may run up before the trip, in yuan (0.00 = none).
trip_grace_amount = "0.00"
# Consecutive readings above a meter's power limit before an overload alarm (0 = off).
overload_readings = 3
# Trip an overloaded meter (else the alarm only).
overload_trip = false
# Meter mode: largest accepted difference between a meter's balance and the ledger's, yuan.
drift_tolerance = "10.00"
# A meter or gateway must be unreachable this long before an offline alarm.
offline_grace = "10m"
# An alarm still active is sent again after this long.
repeat_every = "1d"
# No tenant SMS in this daily window (site time), HH:MM-HH:MM; empty = none.
quiet_hours = "22:00-07:00"

[printer]
# none, file:/dev/usb/lp0 (a device or file), or tcp:HOST:PORT (usually port 9100).
target = "none"
# Characters per line of the paper (32 for 58 mm, 48 for 80 mm).
chars_per_line = 32

[payment]
# sandbox (simulated payments, for demo and tests) or none (cash at the counter only).
provider = "sandbox"

[sms]
# Serial port of the GSM modem, e.g. /dev/ttyUSB2; empty = no SMS.
modem = ""
# Baud rate of the modem port.
baud = 115200
# SMS centre number; empty = the one stored on the SIM.
smsc = ""

[archive]
# Raw readings older than this are removed once their days are rolled up into the daily and
# monthly rows (kept forever); at least 31d.
raw_retention = "400d"
# Time between two rollup and clean-up passes.
every = "1h"
# Readings removed per write transaction (small, so the collector never waits long).
batch = 2000
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_is_the_defaults_and_names_every_key() {
        let parsed = check_text("voltvend.toml", DEFAULT_TOML).unwrap();
        assert_eq!(parsed, Config::default());
        // Every key of every section appears in the file (optional ones commented out),
        // so a new key cannot be added without documenting it there.
        let mut full = Config::default();
        full.site.timezone = Some("Asia/Shanghai".into());
        full.collector.interval = Some(Dur::mins(30));
        let value = toml::Value::try_from(&full).unwrap();
        for (section, keys) in value.as_table().unwrap() {
            assert!(DEFAULT_TOML.contains(&format!("[{section}]")), "{section}");
            for key in keys.as_table().unwrap().keys() {
                assert!(
                    DEFAULT_TOML.contains(&format!("\n{key} = "))
                        || DEFAULT_TOML.contains(&format!("\n# {key} = ")),
                    "{section}.{key} is not in DEFAULT_TOML"
                );
            }
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Dur::parse("250ms"), Ok(Dur::millis(250)));
        assert_eq!(Dur::parse("30m"), Ok(Dur::mins(30)));
        assert_eq!(Dur::parse("1d").unwrap().to_string(), "1d");
        assert_eq!(Dur::millis(1500).to_string(), "1500ms");
        assert_eq!(Dur::secs(90).to_string(), "90s");
        assert!(Dur::parse("5").is_err());
        assert!(Dur::parse("m5").is_err());
        assert!(Dur::parse("5 weeks").is_err());
    }
}
