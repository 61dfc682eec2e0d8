//! Run-time fault control for `voltvend sim`: a watched faults file. Tests use the
//! in-process handles ([`super::SimBus::set_faults`], [`super::MeterHandle::set_faults`]).
//!
//! The file is the whole truth: whenever it changes, every bus and meter takes the faults it
//! lists and everything not listed is cleared. A file that does not parse is reported (file,
//! line, why) and the faults in force stay as they were.
//!
//! ```toml
//! [[bus]]
//! index = 0
//! faults = "gateway_down"
//!
//! [[meter]]
//! bus = 0
//! address = "3"
//! faults = "no_reply,slow_reply=300"   # or a table: { crc_error = true, permille = 200 }
//! ```

use super::bus::{BusHandle, SimAddress};
use super::faults::Faults;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FaultSpec {
    List(String),
    Table(Faults),
}

impl FaultSpec {
    fn faults(&self) -> Result<Faults, String> {
        match self {
            FaultSpec::List(s) => Faults::parse_list(s).map_err(|e| e.to_string()),
            FaultSpec::Table(f) => Ok(f.clone()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BusFaults {
    index: usize,
    faults: FaultSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeterFaults {
    #[serde(default)]
    bus: usize,
    address: String,
    faults: FaultSpec,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FaultsFile {
    #[serde(default)]
    bus: Vec<BusFaults>,
    #[serde(default)]
    meter: Vec<MeterFaults>,
}

/// Applies the faults file `text` to the buses. Errors name the origin, line and reason.
pub fn apply_faults_text(text: &str, origin: &str, buses: &[BusHandle]) -> Result<usize, String> {
    let file: FaultsFile =
        toml::from_str(text).map_err(|e| crate::toml_pos::toml_error(origin, text, &e, None))?;
    // Validate everything before changing anything.
    let mut bus_faults = vec![Faults::none(); buses.len()];
    for b in &file.bus {
        let f = b
            .faults
            .faults()
            .map_err(|e| format!("{origin}: bus {}: {e}", b.index))?;
        let slot = bus_faults
            .get_mut(b.index)
            .ok_or_else(|| format!("{origin}: there is no bus {}", b.index))?;
        *slot = f;
    }
    let mut meter_faults = Vec::new();
    for m in &file.meter {
        let bus = buses
            .get(m.bus)
            .ok_or_else(|| format!("{origin}: there is no bus {}", m.bus))?;
        let addr = SimAddress::parse(bus.protocol(), &m.address)
            .map_err(|e| format!("{origin}: meter {}: {e}", m.address))?;
        let handle = bus
            .meter(&addr)
            .ok_or_else(|| format!("{origin}: no meter {} on bus {}", m.address, m.bus))?;
        let f = m
            .faults
            .faults()
            .map_err(|e| format!("{origin}: meter {}: {e}", m.address))?;
        meter_faults.push((handle, f));
    }
    for (b, f) in buses.iter().zip(bus_faults) {
        b.set_faults(f);
        for a in b.addresses() {
            if let Some(h) = b.meter(&a) {
                h.set_faults(Faults::none());
            }
        }
    }
    let n = meter_faults.len() + file.bus.len();
    for (h, f) in meter_faults {
        h.set_faults(f);
    }
    Ok(n)
}

/// Watches `path` (polling every 200 ms) and applies it on every change until the task is
/// dropped. A missing file means no faults.
pub async fn watch_faults_file(path: PathBuf, buses: Vec<BusHandle>) {
    let mut last: Option<String> = None;
    loop {
        let text = read(&path).unwrap_or_default();
        if last.as_deref() != Some(text.as_str()) {
            match apply_faults_text(&text, &path.display().to_string(), &buses) {
                Ok(n) => tracing::info!("faults file {}: {n} entries applied", path.display()),
                Err(e) => tracing::error!("faults file refused, faults unchanged: {e}"),
            }
            last = Some(text);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}
