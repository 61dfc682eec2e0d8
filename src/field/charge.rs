//! From two consecutive stored readings to an exact consumption charge: the energy delta
//! (per TOU band when both readings carry the band registers), the month-to-date energy for
//! tiered tariffs, the meter's tariff from the site store, and `tariff::cost`.

use super::readings::{self, Reading};
use crate::site::model::{Meter, SiteDefaults};
use crate::store::Store;
use crate::tariff::{self, EffectiveTariff, Tariff, Usage};
use crate::units::{SubFen, Wh};

#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error(
        "meter {meter}: tariff '{name}' is not in the site store: set it from a tariff file (console: site screen, i, Tab to 'tariff'; docs/tariffs.md)"
    )]
    NoTariff { meter: String, name: String },
    #[error("meter {meter}: tariff '{name}' is stored but unreadable: {why}")]
    BadTariff {
        meter: String,
        name: String,
        why: String,
    },
    #[error("meter {meter}: {why}")]
    Cost { meter: String, why: String },
    #[error("meter {meter}: cannot read the site store: {why}")]
    Store { meter: String, why: String },
}

/// The usage between two readings of the same baseline (`cur.total >= prev.total`).
/// Band deltas are used when both readings have them and none went backwards.
pub fn usage(prev: &Reading, cur: &Reading) -> Usage {
    if let (Some(a), Some(b)) = (prev.bands, cur.bands) {
        let d: [Wh; 4] = std::array::from_fn(|i| b[i] - a[i]);
        if d.iter().all(|w| w.0 >= 0) && d.iter().any(|w| w.0 > 0) {
            return Usage::banded(prev.at, cur.at, d);
        }
    }
    Usage::total(prev.at, cur.at, cur.total - prev.total)
}

/// A stored tariff: dated versions, or one plain tariff.
pub fn parse_tariff(value: serde_json::Value) -> Result<EffectiveTariff, String> {
    match serde_json::from_value::<EffectiveTariff>(value.clone()) {
        Ok(t) => Ok(t),
        Err(_) => serde_json::from_value::<Tariff>(value)
            .map(EffectiveTariff::single)
            .map_err(|e| e.to_string()),
    }
}

/// Energy used in the calendar month (site time zone) holding `at`, before `at`, from the
/// stored readings: `at`'s reading total minus the month's baseline (the last reading before
/// the month began, else the month's first reading; suspect readings not accepted are
/// skipped). Never negative.
pub fn month_to_date(
    store: &Store,
    meter: &Meter,
    reading_before: &Reading,
    tz: &jiff::tz::TimeZone,
) -> Result<Wh, crate::store::StoreError> {
    let month = tz.to_datetime(reading_before.at).date().first_of_month();
    let Ok(start) = tz.to_timestamp(month.at(0, 0, 0, 0)) else {
        return Ok(Wh::ZERO);
    };
    // A suspect reading that was not accepted (a zero answered in a brownout) is no
    // baseline: the month would look far bigger and price at the wrong tier.
    let trusted = |r: &Reading| -> Result<bool, crate::store::StoreError> {
        Ok(!super::suspect::is_untrusted(store, &meter.id, r.at_ms())?)
    };
    let mut baseline = None;
    let mut before = start;
    for _ in 0..16 {
        match readings::latest_before(store, &meter.id, before)? {
            Some(r) if !trusted(&r)? => before = r.at,
            found => {
                baseline = found;
                break;
            }
        }
    }
    if baseline.is_none() {
        for r in readings::history(store, &meter.id, start, reading_before.at)? {
            if trusted(&r)? {
                baseline = Some(r);
                break;
            }
        }
    }
    Ok(match baseline {
        Some(b) if b.total <= reading_before.total => reading_before.total - b.total,
        _ => Wh::ZERO,
    })
}

/// The exact cost of the energy between `prev` and `cur` for `meter`.
pub fn cost_between(
    store: &Store,
    meter: &Meter,
    defaults: &SiteDefaults,
    prev: &Reading,
    cur: &Reading,
) -> Result<(Usage, SubFen), ChargeError> {
    let id = meter.id.to_string();
    let name = meter.tariff_name(defaults).to_string();
    let value = crate::site::repo::get_tariff(store, &name)
        .map_err(|e| ChargeError::Store {
            meter: id.clone(),
            why: e.to_string(),
        })?
        .ok_or_else(|| ChargeError::NoTariff {
            meter: id.clone(),
            name: name.clone(),
        })?;
    let t = parse_tariff(value).map_err(|why| ChargeError::BadTariff {
        meter: id.clone(),
        name: name.clone(),
        why,
    })?;
    let tz = defaults.tz();
    let mtd = month_to_date(store, meter, prev, &tz).map_err(|e| ChargeError::Store {
        meter: id.clone(),
        why: e.to_string(),
    })?;
    let u = usage(prev, cur);
    let c = tariff::cost(&t, &u, mtd, &tz).map_err(|e| ChargeError::Cost {
        meter: id,
        why: e.to_string(),
    })?;
    Ok((u, c))
}

pub use super::charger::Charger;

/// The production [`Charger`]: prices the delta with the meter's tariff and
/// posts it with `Ledger::charge_consumption` under the reading's key (idempotent).
pub struct LedgerCharger {
    store: Store,
    ledger: crate::ledger::Ledger,
    actor: crate::auth::roles::Actor,
}

impl LedgerCharger {
    pub fn new(store: Store, ledger: crate::ledger::Ledger) -> LedgerCharger {
        LedgerCharger {
            store,
            ledger,
            actor: crate::auth::roles::Actor::System {
                component: "collector".to_string(),
            },
        }
    }
}

impl Charger for LedgerCharger {
    fn charge(&self, meter: &Meter, prev: &Reading, cur: &Reading) -> Result<(), String> {
        let defaults = crate::site::repo::defaults(&self.store).map_err(|e| e.to_string())?;
        let (usage, cost) =
            cost_between(&self.store, meter, &defaults, prev, cur).map_err(|e| e.to_string())?;
        let key = cur.key();
        let req = crate::ledger::ChargeConsumption {
            meter: meter.id.clone(),
            reading_key: key.clone(),
            energy: usage.total,
            cost,
            at: cur.at,
        };
        match self.ledger.charge_consumption(&self.actor, &key, req) {
            Ok(_) => Ok(()),
            // A meter nobody rents is read and archived but not billed.
            Err(crate::ledger::LedgerError::NoMeter(_)) => {
                tracing::debug!(meter = %meter.id, "no ledger account: reading not charged");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::roles::{Actor, Role};
    use crate::ledger::{Ledger, MeterAccountInit, OpenAccount};
    use crate::site::ids::{GatewayId, MeterId};
    use crate::site::model::{MeterAddress, Phases, Protocol};
    use crate::units::{Fen, Price};
    use jiff::Timestamp;

    fn meter() -> Meter {
        Meter {
            id: MeterId::new("M1"),
            address: MeterAddress::Modbus(1),
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk".into(),
            phases: Phases::One,
            gateway: GatewayId::new("GW1"),
            bus: 1,
            unit: None,
            billing: crate::site::model::BillingMode::Host,
            tariff: None,
            power_limit_w: None,
            alarm1: None,
            alarm2: None,
        }
    }

    fn reading(ms: i64, total: i64) -> Reading {
        Reading {
            meter: MeterId::new("M1"),
            at: Timestamp::from_millisecond(ms).unwrap(),
            total: Wh(total),
            bands: None,
            voltage_dv: vec![],
            current_ma: vec![],
            power_w: None,
            balance: None,
            purchase_count: None,
            relay: None,
            rollback: false,
        }
    }

    #[test]
    fn a_reading_is_charged_once_at_the_tariff_price() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let admin = Actor::operator("admin", Role::Admin);
        let flat = Tariff::Flat {
            price: Price::parse_yuan_per_kwh("0.8523").unwrap(),
        };
        let (tariff, by) = (serde_json::to_value(&flat).unwrap(), admin.clone());
        store
            .write(move |txn| crate::site::repo::set_tariff(txn, &by, "default", &tariff))
            .unwrap();
        let ledger = Ledger::open(store.clone()).unwrap();
        ledger
            .open_account(
                &admin,
                "open-T1",
                OpenAccount {
                    tenant: "T1".into(),
                    meters: vec![MeterAccountInit {
                        meter: "M1".into(),
                        billing: crate::site::BillingMode::Host,
                    }],
                    transfer_in: None,
                },
            )
            .unwrap();
        let charger = LedgerCharger::new(store.clone(), ledger.clone());
        let (prev, cur) = (reading(1_000, 10_000), reading(2_000, 13_000));
        // 3 kWh at 0.8523 yuan/kWh = 2.5569 yuan: 255 fen posted, 0.69 fen carried.
        charger.charge(&meter(), &prev, &cur).unwrap();
        charger.charge(&meter(), &prev, &cur).unwrap();
        let acct = ledger.account(&"T1".into()).unwrap().unwrap();
        assert_eq!(acct.balance, Fen(-255));
        let carry = ledger.meter_account(&"M1".into()).unwrap().unwrap().carry;
        assert_eq!(carry, crate::units::SubFen(6_900_000));
    }

    #[test]
    fn band_deltas_are_used_when_both_readings_have_them() {
        let mut a = reading(0, 100);
        let mut b = reading(1, 160);
        a.bands = Some([Wh(10), Wh(20), Wh(30), Wh(40)]);
        b.bands = Some([Wh(10), Wh(50), Wh(60), Wh(40)]);
        let u = usage(&a, &b);
        assert_eq!(u.by_band, Some([Wh(0), Wh(30), Wh(30), Wh(0)]));
        assert_eq!(u.total, Wh(60));
        b.bands = Some([Wh(0), Wh(50), Wh(60), Wh(40)]);
        assert_eq!(
            usage(&a, &b).by_band,
            None,
            "a band going back falls back to the total"
        );
    }
}
