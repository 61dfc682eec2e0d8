//! A tariff file: one named tariff in the TOML form of docs/tariffs.md, with its `name` at
//! the top, so staff can define or change a site's prices from a file on the appliance
//! (console: site screen, import "tariff"; API: `POST /api/v1/tariffs`; `voltvend tariff`).
//!
//! ```toml
//! name = "default"
//! kind = "flat"
//! price = "0.8523"
//! ```
//!
//! or `name = "shops"` followed by `[[versions]]` tables for dated price changes. Every
//! mistake is one message naming the file, the line and why; nothing is stored then.

use crate::auth::Actor;
use crate::site::repo::{self, Change, SiteError};
use crate::store::Store;
use crate::tariff::{EffectiveTariff, Tariff};

/// A parsed, validated tariff file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffFile {
    pub name: String,
    pub tariff: EffectiveTariff,
}

impl TariffFile {
    /// The tariff as the site store keeps it: a single tariff as itself, dated versions as
    /// `{"versions": [...]}`.
    pub fn value(&self) -> serde_json::Value {
        match self.tariff.as_single() {
            Some(t) => serde_json::to_value(t).unwrap_or_default(),
            None => serde_json::to_value(&self.tariff).unwrap_or_default(),
        }
    }
}

/// Parses the text of the tariff file `file` (named in messages as given).
pub fn parse(file: &str, text: &str) -> Result<TariffFile, String> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| crate::toml_pos::toml_error(file, text, &e, None))?;
    let name = match table.remove("name") {
        Some(toml::Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
        Some(_) => return Err(format!("{file}: 'name' must be the tariff's name as text")),
        None => {
            return Err(format!(
                "{file}: no 'name' line: start the file with e.g. name = \"default\""
            ));
        }
    };
    // The tariff is read from the text itself (its types ignore `name`), so a mistake
    // keeps its position in the file where serde can tell it (not inside a tariff's
    // `kind`-tagged table, which serde buffers).
    let subject = format!("tariff '{name}'");
    let wrong = |e: toml::de::Error| crate::toml_pos::toml_error(file, text, &e, Some(&subject));
    let tariff = if table.contains_key("versions") {
        toml::from_str::<EffectiveTariff>(text).map_err(wrong)?
    } else if table.contains_key("kind") {
        EffectiveTariff::single(toml::from_str::<Tariff>(text).map_err(wrong)?)
    } else {
        return Err(format!(
            "{file}: tariff '{name}' has neither 'kind' (flat, tiered, time_of_use) nor [[versions]]"
        ));
    };
    tariff
        .validate()
        .map_err(|e| format!("{file}: tariff '{name}': {e}"))?;
    Ok(TariffFile { name, tariff })
}

/// Why a tariff file was not taken; each message names the file as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Unreadable(String),
    #[error("{0}")]
    Invalid(String),
}

/// Reads and parses the tariff file at `path`.
pub fn read(path: &std::path::Path) -> Result<TariffFile, ReadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReadError::Unreadable(format!("{shown}: {e}")))?;
    parse(&shown, &text).map_err(ReadError::Invalid)
}

/// What storing a tariff did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub name: String,
    pub change: Change,
    /// The stored tariff before, in one line; none when it is new.
    pub before: Option<String>,
    pub after: String,
    pub dry_run: bool,
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let change = self.change.as_str();
        let dry = if self.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        };
        match &self.before {
            Some(b) if self.change == Change::Updated => {
                write!(
                    f,
                    "tariff {} {change}{dry}: {b} → {}",
                    self.name, self.after
                )
            }
            _ => write!(f, "tariff {} {change}{dry}: {}", self.name, self.after),
        }
    }
}

/// Stores `file`'s tariff under its name (one audited write transaction), or in a dry run
/// only compares it with the stored one.
pub fn apply(
    store: &Store,
    actor: &Actor,
    file: &TariffFile,
    dry_run: bool,
) -> Result<Applied, SiteError> {
    let value = file.value();
    let before = repo::get_tariff(store, &file.name)?;
    let change = if dry_run {
        match &before {
            None => Change::Added,
            Some(b) if *b == value => Change::Unchanged,
            Some(_) => Change::Updated,
        }
    } else {
        let (actor, name, value) = (actor.clone(), file.name.clone(), value.clone());
        store.write(move |txn| repo::set_tariff(txn, &actor, &name, &value))?
    };
    Ok(Applied {
        name: file.name.clone(),
        change,
        before: before.as_ref().map(summary),
        after: summary(&value),
        dry_run,
    })
}

/// One line about a stored tariff (single or with dated versions) for lists and reviews.
pub fn summary(value: &serde_json::Value) -> String {
    match repo::decode_tariff(value) {
        Ok(t) => {
            let one = |t: &Tariff| match t {
                Tariff::Flat { price } => format!("flat {price} ¥/kWh"),
                Tariff::Tiered { tiers } => {
                    let parts: Vec<String> = tiers
                        .iter()
                        .map(|t| match t.up_to {
                            Some(b) => format!("≤{} kWh {}", kwh(b), t.price),
                            None => format!("above {}", t.price),
                        })
                        .collect();
                    format!("tiered {}", parts.join(", "))
                }
                Tariff::TimeOfUse { prices, schedule } => format!(
                    "time of use sharp {} peak {} flat {} valley {} ({} periods a day)",
                    prices.sharp,
                    prices.peak,
                    prices.flat,
                    prices.valley,
                    schedule.0.len()
                ),
            };
            match t.as_single() {
                Some(single) => one(single),
                None => t
                    .versions
                    .iter()
                    .map(|v| format!("from {}: {}", v.start, one(&v.tariff)))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        }
        Err(why) => format!("unreadable tariff: {why}"),
    }
}

/// kWh without trailing zeros: `200`, `0.5`.
fn kwh(e: crate::units::Wh) -> String {
    let t = e.to_string();
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_file_is_a_single_tariff_stored_as_itself() {
        let f = parse(
            "t.toml",
            "name = \"default\"\nkind = \"flat\"\nprice = \"0.95\"\n",
        )
        .expect("parse");
        assert_eq!(f.name, "default");
        assert_eq!(
            f.value(),
            serde_json::json!({"kind": "flat", "price": "0.9500"})
        );
        assert_eq!(summary(&f.value()), "flat 0.9500 ¥/kWh");
    }

    #[test]
    fn dated_versions_keep_their_starts() {
        let text = "name = \"shops\"\n\n[[versions]]\nstart = \"2026-01-01T00:00:00+08:00\"\ntariff = { kind = \"flat\", price = \"0.8\" }\n\n[[versions]]\nstart = \"2027-01-01T00:00:00+08:00\"\ntariff = { kind = \"flat\", price = \"0.9\" }\n";
        let f = parse("t.toml", text).expect("parse");
        assert_eq!(f.tariff.versions.len(), 2);
        assert_eq!(
            summary(&f.value()),
            "from 2025-12-31T16:00:00Z: flat 0.8000 ¥/kWh; from 2026-12-31T16:00:00Z: flat 0.9000 ¥/kWh"
        );
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let float = parse("t.toml", "name = \"x\"\nkind = \"flat\"\nprice = 0.85\n").unwrap_err();
        // (Inside a tariff serde cannot say where: its kind tag buffers the table; the
        // message names the value instead.)
        assert!(float.starts_with("t.toml: tariff 'x':"), "{float}");
        assert!(float.contains("written as text"), "{float}");
        let syntax = parse("t.toml", "name = \"x\"\nkind = \"flat\"\nprice = \n").unwrap_err();
        assert!(syntax.starts_with("t.toml:3: "), "{syntax}");
        let unnamed = parse("t.toml", "kind = \"flat\"\nprice = \"1\"\n").unwrap_err();
        assert!(unnamed.contains("no 'name' line"), "{unnamed}");
        let start = "name = \"x\"\n\n[[versions]]\nstart = \"tomorrow\"\ntariff = { kind = \"flat\", price = \"1\" }\n";
        let start = parse("t.toml", start).unwrap_err();
        assert!(start.starts_with("t.toml:4: tariff 'x':"), "{start}");
        let empty = parse("t.toml", "name = \"x\"\n").unwrap_err();
        assert!(empty.contains("neither 'kind'"), "{empty}");
        let tiers = "name = \"x\"\nkind = \"tiered\"\ntiers = [{ up_to_kwh = 300, price = \"0.5\" }, { up_to_kwh = 200, price = \"0.6\" }, { price = \"0.8\" }]\n";
        let bad = parse("t.toml", tiers).unwrap_err();
        assert!(bad.contains("tier bounds must increase"), "{bad}");
        let tiered = "name = \"x\"\nkind = \"tiered\"\ntiers = [{ up_to_kwh = 200, price = \"0.5\" }, { up_to_kwh = \"400.5\", price = \"0.6\" }, { price = \"0.8\" }]\n";
        let f = parse("t.toml", tiered).expect("tiered");
        assert_eq!(
            summary(&f.value()),
            "tiered ≤200 kWh 0.5000, ≤400.5 kWh 0.6000, above 0.8000"
        );
    }
}
