//! One simulated prepaid meter: energy by TOU band, its own balance, relay, flags, and the
//! named values its profile exposes. Protocol-agnostic: the Modbus and DL/T 645 front ends
//! read and write it through [`SimMeter::value`], [`SimMeter::write`] and
//! [`SimMeter::command`].

use super::load::LoadModel;
use super::tou::{LocalTime, TouSchedule};
use crate::protocol::profile::{CommandKind, Profile, names};
use crate::units::{Fen, Price, SUBFEN_PER_FEN, SubFen, Wh};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the meter is billed (mirrors `site::model::BillingMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimBilling {
    /// The meter deducts its own balance by its TOU prices and trips itself at zero.
    Meter,
    /// The host bills; the meter only measures and obeys relay commands.
    #[default]
    Host,
}

/// Why the relay is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TripReason {
    /// A trip command from the master.
    Remote,
    /// The meter's own balance reached zero (meter billing mode).
    Arrears,
}

/// A verified credit token: what the meter does with its balance (add, withdraw or clear,
/// docs/credit-token.md) and the purchase count it moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedCredit {
    pub kind: crate::protocol::credit::TokenKind,
    pub amount: Fen,
    pub purchase_count: u32,
}

/// Checks credit token bytes for a meter. The control helper wires this to
/// `protocol::credit::CreditToken::verify`; without a verifier every token is refused.
pub trait CreditVerifier: Send + Sync + std::fmt::Debug {
    /// `serial`: this meter's serial; `last_count`: its purchase count now.
    fn verify(&self, serial: &str, last_count: u32, token: &[u8])
    -> Result<VerifiedCredit, String>;
}

/// Why a write or command was refused (becomes a Modbus exception or a DL/T 645 error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no register '{0}' on this meter")]
    NoSuchRegister(String),
    #[error("register '{0}' is read-only")]
    ReadOnly(String),
    #[error("value {value} is not allowed for '{name}'")]
    BadValue { name: String, value: i64 },
    #[error("credit refused: {0}")]
    Credit(String),
    #[error("the meter does not support {0}")]
    Unsupported(String),
}

/// Initial settings of a simulated meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterInit {
    pub serial: String,
    pub billing: SimBilling,
    pub balance: Fen,
    pub purchase_count: u32,
    pub prices: [Price; 4],
    pub alarm1: Fen,
    pub alarm2: Fen,
    pub overload_limit_w: i64,
    pub keep_power: bool,
    pub prepaid_mode: bool,
    /// Energy already on the registers, per band (sharp, peak, flat, valley).
    pub energy: [Wh; 4],
}

impl Default for MeterInit {
    fn default() -> Self {
        MeterInit {
            serial: "000000000000".into(),
            billing: SimBilling::Host,
            balance: Fen(10_000),
            purchase_count: 0,
            // 1.20 / 1.00 / 0.70 / 0.35 yuan per kWh, in 0.0001 fen/kWh.
            prices: [
                Price::from_units(1_200_000),
                Price::from_units(1_000_000),
                Price::from_units(700_000),
                Price::from_units(350_000),
            ],
            alarm1: Fen(2_000),
            alarm2: Fen(500),
            overload_limit_w: 0,
            keep_power: false,
            prepaid_mode: true,
            energy: [Wh(0); 4],
        }
    }
}

/// Everything a meter knows, in exact units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeterState {
    pub serial: String,
    pub billing: SimBilling,
    /// Energy per band (sharp, peak, flat, valley).
    pub energy: [Wh; 4],
    /// Energy below one Wh not yet booked, per band, in W·ms.
    pub residual_wms: [i64; 4],
    /// Balance in 1e-7 fen, so deductions by price never round.
    pub balance: SubFen,
    pub purchase_count: u32,
    pub prices: [Price; 4],
    pub alarm1: Fen,
    pub alarm2: Fen,
    pub overload_limit_w: i64,
    pub keep_power: bool,
    pub prepaid_mode: bool,
    pub relay_open: bool,
    pub trip_reason: Option<TripReason>,
    /// DL/T 645 N1 = 1BH: closing is permitted but waits for the tenant's button.
    pub close_permitted: bool,
    pub user_code: i64,
    pub ct_ratio: i64,
    /// Instantaneous values at `last_update`.
    pub power_w: i64,
    pub voltage_dv: i64,
    pub pf_milli: i64,
    pub freq_chz: i64,
    pub last_update: Timestamp,
    /// Accepted credit tokens (count) and refused ones, for tests.
    pub credits_accepted: u32,
    pub credits_refused: u32,
}

/// A simulated meter: state plus the models that drive it.
#[derive(Debug, Clone)]
pub struct SimMeter {
    pub profile: Arc<Profile>,
    pub load: LoadModel,
    pub state: MeterState,
    /// A wrong energy answer for the next read of the energy registers (then the truth).
    pub energy_fault: Option<EnergyFault>,
    /// The meter implements only the documented register map: every register and command
    /// whose profile source says `assumed` answers "no such register" (Modbus exception 02;
    /// Modbus only), like an installer's meter that has no prepaid block.
    pub documented_only: bool,
    /// Requests refused because they touched an assumed register (`documented_only`).
    pub assumed_requests: u64,
    /// Times the relay changed state by a fixed command (trip, close).
    pub relay_switches: u64,
}

/// A one-off wrong energy answer (reading plausibility tests, `field::plausible`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnergyFault {
    /// Every energy register answers zero once (a brownout, a firmware glitch).
    ZeroOnce,
    /// The total (and the flat band) answer this much too high once (a corrupted reply).
    SpikeOnce(Wh),
}

/// Largest simulation step: load and band are held constant within a step, and a step
/// never crosses a minute boundary (TOU bands change on whole minutes).
const STEP_MS: i64 = 60_000;
const WMS_PER_WH: i64 = 3_600_000;

impl SimMeter {
    pub fn new(profile: Arc<Profile>, load: LoadModel, init: MeterInit, now: Timestamp) -> Self {
        let mut m = SimMeter {
            energy_fault: None,
            documented_only: false,
            assumed_requests: 0,
            relay_switches: 0,
            profile,
            load,
            state: MeterState {
                serial: init.serial,
                billing: init.billing,
                energy: init.energy,
                residual_wms: [0; 4],
                balance: SubFen::from_fen(init.balance),
                purchase_count: init.purchase_count,
                prices: init.prices,
                alarm1: init.alarm1,
                alarm2: init.alarm2,
                overload_limit_w: init.overload_limit_w,
                keep_power: init.keep_power,
                prepaid_mode: init.prepaid_mode,
                relay_open: false,
                trip_reason: None,
                close_permitted: false,
                user_code: 0,
                ct_ratio: 1,
                power_w: 0,
                voltage_dv: 2200,
                pf_milli: 950,
                freq_chz: 5000,
                last_update: now,
                credits_accepted: 0,
                credits_refused: 0,
            },
        };
        // A meter that starts without money in meter mode is already off.
        m.enforce();
        m
    }

    /// Balance in whole fen (rounded toward negative infinity: a meter never shows money it
    /// has not got).
    pub fn balance(&self) -> Fen {
        Fen(self.state.balance.0.div_euclid(SUBFEN_PER_FEN) as i64)
    }

    pub fn total_energy(&self) -> Wh {
        self.state.energy.iter().copied().sum()
    }

    /// Lives through simulated time up to `now`: draws power, books energy into the band of
    /// each minute, deducts its own balance in meter billing mode and trips at zero.
    pub fn advance(&mut self, now: Timestamp, tz: &TimeZone, tou: &TouSchedule) {
        let mut t = self.state.last_update;
        if now <= t {
            return;
        }
        let mut local = LocalTime::at(t, tz);
        while t < now {
            let ms_in_minute = t.as_millisecond().rem_euclid(60_000);
            let left = now.duration_since(t).as_millis();
            let step = (STEP_MS - ms_in_minute).min(i64::try_from(left).unwrap_or(STEP_MS));
            if step <= 0 {
                break;
            }
            if ms_in_minute == 0 || t == self.state.last_update {
                local = LocalTime::at(t, tz);
            }
            let band = tou.band_at(local.minute_of_day).index();
            let power = if self.state.relay_open {
                0
            } else {
                self.load.power_w(local)
            };
            self.state.power_w = power;
            let acc = &mut self.state.residual_wms[band];
            *acc += power * step;
            let mut wh = *acc / WMS_PER_WH;
            *acc -= wh * WMS_PER_WH;
            // The meter checks its money on every Wh: it trips at the Wh that empties it,
            // not at the end of the step.
            let s = &self.state;
            if s.billing == SimBilling::Meter && s.prepaid_mode && !s.keep_power && wh > 0 {
                let per_wh = s.prices[band].cost(Wh(1)).0;
                if per_wh > 0 && s.balance.0 > 0 {
                    let affordable = (s.balance.0 + per_wh - 1) / per_wh;
                    if i128::from(wh) >= affordable {
                        wh = i64::try_from(affordable).unwrap_or(wh);
                        self.state.residual_wms[band] = 0;
                    }
                }
            }
            if wh > 0 {
                self.state.energy[band] += Wh(wh);
                if self.state.billing == SimBilling::Meter {
                    let cost = self.state.prices[band].cost(Wh(wh));
                    self.state.balance = SubFen(self.state.balance.0 - cost.0);
                }
            }
            self.enforce();
            t = t
                .checked_add(jiff::SignedDuration::from_millis(step))
                .unwrap_or(now);
            // Instantaneous values drift a little minute by minute (seeded).
            let n = super::load::mix(self.load.key ^ 0x5A5A ^ (local.local_minute as u64));
            self.state.voltage_dv = 2180 + (n % 41) as i64;
            self.state.pf_milli = 930 + ((n >> 8) % 50) as i64;
            self.state.freq_chz = 4995 + ((n >> 16) % 11) as i64;
        }
        self.state.last_update = now;
        if self.state.relay_open {
            self.state.power_w = 0;
        }
    }

    /// Meter-mode rules: trip at zero balance unless keep-power; close again when credit
    /// brings the balance above zero after an arrears trip.
    pub fn enforce(&mut self) {
        let s = &mut self.state;
        let local_control = s.billing == SimBilling::Meter && s.prepaid_mode;
        if local_control && !s.keep_power && s.balance.0 <= 0 && !s.relay_open {
            s.relay_open = true;
            s.trip_reason = Some(TripReason::Arrears);
            s.power_w = 0;
        }
        if s.relay_open && s.trip_reason == Some(TripReason::Arrears) && s.balance.0 > 0 {
            s.relay_open = false;
            s.trip_reason = None;
        }
    }

    fn phase_split(&self, total: i64) -> i64 {
        if self.profile.phases == 3 {
            total / 3
        } else {
            total
        }
    }

    /// Current in mA for one phase: I = P / (U × pf).
    fn current_ma(&self) -> i64 {
        let p = self.phase_split(self.state.power_w);
        let denom = self.state.voltage_dv * self.state.pf_milli;
        if denom == 0 {
            0
        } else {
            p * 10_000_000 / denom
        }
    }

    /// The named value in its canonical unit (see `protocol::profile::Quantity`).
    pub fn value(&self, name: &str) -> Option<i64> {
        let s = &self.state;
        let has_overdraft = self.profile.register("overdraft").is_some();
        let bal = self.balance().0;
        let (zero, spike) = match self.energy_fault {
            Some(EnergyFault::ZeroOnce) => (0, 0),
            Some(EnergyFault::SpikeOnce(w)) => (1, w.0),
            None => (1, 0),
        };
        let v = match name {
            names::ENERGY_TOTAL | "energy_combined" => zero * self.total_energy().0 + spike,
            names::ENERGY_SHARP => zero * s.energy[0].0,
            names::ENERGY_PEAK => zero * s.energy[1].0,
            names::ENERGY_FLAT => zero * s.energy[2].0 + spike,
            names::ENERGY_VALLEY => zero * s.energy[3].0,
            names::VOLTAGE | names::VOLTAGE_A => s.voltage_dv,
            names::VOLTAGE_B => s.voltage_dv + 3,
            names::VOLTAGE_C => s.voltage_dv - 2,
            names::CURRENT | names::CURRENT_A | names::CURRENT_B | names::CURRENT_C => {
                self.current_ma()
            }
            names::POWER => s.power_w,
            names::POWER_A | names::POWER_B | names::POWER_C => self.phase_split(s.power_w),
            names::APPARENT_POWER => {
                if s.pf_milli == 0 {
                    0
                } else {
                    s.power_w * 1000 / s.pf_milli
                }
            }
            names::POWER_FACTOR => s.pf_milli,
            names::FREQUENCY => s.freq_chz,
            names::BALANCE if has_overdraft => bal.max(0),
            names::BALANCE => bal,
            "overdraft" => (-bal).max(0),
            names::PURCHASE_COUNT => i64::from(s.purchase_count),
            names::RELAY_OPEN => i64::from(s.relay_open),
            // Status word 3 bit 6: the last relay command was a trip still in force.
            "relay_command" => i64::from(s.relay_open && !s.close_permitted),
            names::KEEP_POWER => i64::from(s.keep_power),
            names::PREPAID_MODE => i64::from(s.prepaid_mode),
            names::ALARM1 => s.alarm1.0,
            names::ALARM2 => s.alarm2.0,
            names::OVERLOAD_LIMIT => s.overload_limit_w,
            names::PRICE_SHARP => s.prices[0].0,
            names::PRICE_PEAK => s.prices[1].0,
            names::PRICE_FLAT => s.prices[2].0,
            names::PRICE_VALLEY => s.prices[3].0,
            "user_code" => s.user_code,
            "ct_ratio" => s.ct_ratio,
            names::CREDIT_TOKEN => 0,
            _ => return None,
        };
        Some(v)
    }

    /// Writes a named value (canonical unit). Only the profile's read/write registers.
    pub fn write(&mut self, name: &str, value: i64) -> Result<(), Refused> {
        let reg = self
            .profile
            .register(name)
            .ok_or_else(|| Refused::NoSuchRegister(name.to_string()))?;
        if reg.access == crate::protocol::profile::Access::R {
            return Err(Refused::ReadOnly(name.to_string()));
        }
        let bad = || Refused::BadValue {
            name: name.to_string(),
            value,
        };
        let flag = |v: i64| match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad()),
        };
        let s = &mut self.state;
        match name {
            names::PRICE_SHARP | names::PRICE_PEAK | names::PRICE_FLAT | names::PRICE_VALLEY => {
                if value < 0 {
                    return Err(bad());
                }
                let i = names::PRICES.iter().position(|n| *n == name).unwrap_or(0);
                s.prices[i] = Price::from_units(value);
            }
            names::ALARM1 | names::ALARM2 => {
                if value < 0 {
                    return Err(bad());
                }
                if name == names::ALARM1 {
                    s.alarm1 = Fen(value);
                } else {
                    s.alarm2 = Fen(value);
                }
            }
            names::OVERLOAD_LIMIT => {
                if value < 0 {
                    return Err(bad());
                }
                s.overload_limit_w = value;
            }
            names::KEEP_POWER => s.keep_power = flag(value)?,
            names::PREPAID_MODE => s.prepaid_mode = flag(value)?,
            "user_code" => {
                if !(0..=9999).contains(&value) {
                    return Err(bad());
                }
                s.user_code = value;
            }
            "ct_ratio" => {
                if value <= 0 {
                    return Err(bad());
                }
                s.ct_ratio = value;
            }
            other => return Err(Refused::Unsupported(format!("writing '{other}'"))),
        }
        self.enforce();
        Ok(())
    }

    /// Applies a fixed command.
    pub fn command(&mut self, kind: CommandKind) -> Result<(), Refused> {
        let was_open = self.state.relay_open;
        let r = self.apply_command(kind);
        if self.state.relay_open != was_open {
            self.relay_switches += 1;
        }
        r
    }

    fn apply_command(&mut self, kind: CommandKind) -> Result<(), Refused> {
        let s = &mut self.state;
        match kind {
            CommandKind::RelayTrip => {
                s.close_permitted = false;
                s.relay_open = true;
                s.trip_reason = Some(TripReason::Remote);
                s.power_w = 0;
            }
            CommandKind::RelayClose => {
                s.relay_open = false;
                s.close_permitted = false;
                s.trip_reason = None;
            }
            CommandKind::KeepPowerOn => s.keep_power = true,
            CommandKind::KeepPowerOff => s.keep_power = false,
            CommandKind::PrepaidOn => {
                s.prepaid_mode = true;
                s.keep_power = false;
            }
            other => {
                return Err(Refused::Unsupported(format!(
                    "{} as a fixed command",
                    other.as_str()
                )));
            }
        }
        // A close at zero balance in meter mode trips again at once, as the real meter does.
        self.enforce();
        Ok(())
    }

    /// DL/T 645 N1 = 1BH: permit closing; the relay stays open until the tenant presses the
    /// meter's button ([`SimMeter::press_button`]).
    pub fn permit_close(&mut self) {
        if self.state.relay_open {
            self.state.close_permitted = true;
        }
    }

    /// The tenant presses the button: closes the relay when closing was permitted (and the
    /// meter's own money rules allow it). Returns whether the relay is now closed.
    pub fn press_button(&mut self) -> bool {
        if self.state.close_permitted {
            self.state.relay_open = false;
            self.state.close_permitted = false;
            self.state.trip_reason = None;
            self.enforce();
        }
        !self.state.relay_open
    }

    /// The credit hook: verifies token bytes and, if good, adds the amount and moves the
    /// purchase count. Refused tokens change nothing.
    pub fn accept_credit(
        &mut self,
        token: &[u8],
        verifier: Option<&dyn CreditVerifier>,
    ) -> Result<VerifiedCredit, Refused> {
        let Some(v) = verifier else {
            self.state.credits_refused += 1;
            return Err(Refused::Credit("no credit verifier installed".into()));
        };
        match v.verify(&self.state.serial, self.state.purchase_count, token) {
            Ok(c) => {
                use crate::protocol::credit::TokenKind;
                let s = &mut self.state;
                let amount = SubFen::from_fen(c.amount).0;
                s.balance = match c.kind {
                    TokenKind::Credit => SubFen(s.balance.0 + amount),
                    // A withdrawal never takes the meter below zero: refused, count kept.
                    TokenKind::Withdraw if s.balance.0 < amount => {
                        s.credits_refused += 1;
                        return Err(Refused::Credit(format!(
                            "withdrawal of {} refused: the balance is {}",
                            c.amount,
                            Fen(s.balance.0.div_euclid(SUBFEN_PER_FEN) as i64)
                        )));
                    }
                    TokenKind::Withdraw => SubFen(s.balance.0 - amount),
                    TokenKind::Clear => SubFen::ZERO,
                };
                s.purchase_count = c.purchase_count;
                s.credits_accepted += 1;
                self.enforce();
                Ok(c)
            }
            Err(why) => {
                self.state.credits_refused += 1;
                Err(Refused::Credit(why))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::profile::builtin_named;
    use crate::sim::load::Category;
    use jiff::SignedDuration;

    fn meter(fixed_w: i64, init: MeterInit, t0: Timestamp) -> SimMeter {
        let profile = Arc::new(builtin_named("acrel-ddsy1352-nk").expect("profile"));
        let load = LoadModel {
            category: Category::Retail,
            peak_w: 3000,
            fixed_w: Some(fixed_w),
            noise_permille: 0,
            key: 1,
        };
        SimMeter::new(profile, load, init, t0)
    }

    #[test]
    fn energy_goes_to_the_band_of_the_local_hour() {
        let tz = TimeZone::get("Asia/Shanghai").expect("tz");
        let tou = TouSchedule::default_commercial();
        // 2026-06-01T00:00Z = 08:00 Shanghai: peak until 10:00, sharp 10:00-11:00.
        let t0: Timestamp = "2026-06-01T00:00:00Z".parse().expect("ts");
        let mut m = meter(1000, MeterInit::default(), t0);
        m.advance(t0 + SignedDuration::from_hours(3), &tz, &tou);
        // 1 kW for 2 h of peak and 1 h of sharp.
        assert_eq!(m.state.energy, [Wh(1000), Wh(2000), Wh(0), Wh(0)]);
        // Host mode: balance untouched.
        assert_eq!(m.balance(), Fen(10_000));
    }

    #[test]
    fn meter_mode_deducts_by_its_own_prices_and_trips_at_zero() {
        let tz = TimeZone::get("Asia/Shanghai").expect("tz");
        let tou = TouSchedule::default_commercial();
        let t0: Timestamp = "2026-06-01T04:00:00Z".parse().expect("ts"); // 12:00 local, flat
        let init = MeterInit {
            billing: SimBilling::Meter,
            balance: Fen(140), // 1.40 yuan = 2 kWh at 0.70
            ..MeterInit::default()
        };
        let mut m = meter(2000, init, t0);
        m.advance(t0 + SignedDuration::from_mins(30), &tz, &tou);
        assert_eq!(m.balance(), Fen(70)); // 1 kWh × 0.70 yuan
        assert!(!m.state.relay_open);
        m.advance(t0 + SignedDuration::from_hours(2), &tz, &tou);
        assert!(m.state.relay_open);
        assert_eq!(m.state.trip_reason, Some(TripReason::Arrears));
        assert_eq!(m.balance(), Fen(0));
        assert_eq!(m.value(names::POWER), Some(0));
        // Tripped at exactly 2 kWh: no more energy afterwards.
        assert_eq!(m.total_energy(), Wh(2000));
    }

    #[test]
    fn keep_power_never_trips() {
        let tz = TimeZone::get("Asia/Shanghai").expect("tz");
        let tou = TouSchedule::default_commercial();
        let t0: Timestamp = "2026-06-01T04:00:00Z".parse().expect("ts");
        let init = MeterInit {
            billing: SimBilling::Meter,
            balance: Fen(10),
            keep_power: true,
            ..MeterInit::default()
        };
        let mut m = meter(2000, init, t0);
        m.advance(t0 + SignedDuration::from_hours(5), &tz, &tou);
        assert!(!m.state.relay_open);
        assert!(m.balance().0 < 0);
        m.command(CommandKind::KeepPowerOff).expect("cmd");
        assert!(m.state.relay_open);
    }

    #[test]
    fn withdrawals_and_clears_move_the_balance_and_the_count() {
        use crate::protocol::credit::{CreditToken, TokenKind, diversify};
        // The verifier of sim::credit, inline (that module builds on this one).
        #[derive(Debug)]
        struct Verifier([u8; 16]);
        impl CreditVerifier for Verifier {
            fn verify(
                &self,
                serial: &str,
                last: u32,
                token: &[u8],
            ) -> Result<VerifiedCredit, String> {
                let key = diversify(&self.0, serial).map_err(|e| e.to_string())?;
                let c =
                    CreditToken::verify(&key, token, serial, last).map_err(|e| e.to_string())?;
                Ok(VerifiedCredit {
                    kind: c.kind,
                    amount: c.amount,
                    purchase_count: c.purchase_count,
                })
            }
        }
        let master = [7u8; 16];
        let v = Verifier(master);
        let t0: Timestamp = "2026-06-01T04:00:00Z".parse().expect("ts");
        let init = MeterInit {
            billing: SimBilling::Meter,
            balance: Fen(1_000),
            purchase_count: 4,
            ..MeterInit::default()
        };
        let mut m = meter(0, init, t0);
        let serial = m.state.serial.clone();
        let key = diversify(&master, &serial).expect("key");
        let tok = |count, kind, fen| {
            CreditToken::issue_kind(&key, &serial, count, kind, Fen(fen), t0).expect("token")
        };
        // More than the meter holds: refused, nothing moves.
        let big = tok(5, TokenKind::Withdraw, 1_001);
        assert!(matches!(
            m.accept_credit(&big, Some(&v)),
            Err(Refused::Credit(_))
        ));
        assert_eq!((m.balance(), m.state.purchase_count), (Fen(1_000), 4));
        m.accept_credit(&tok(5, TokenKind::Withdraw, 400), Some(&v))
            .expect("withdraw");
        assert_eq!((m.balance(), m.state.purchase_count), (Fen(600), 5));
        m.accept_credit(&tok(6, TokenKind::Clear, 0), Some(&v))
            .expect("clear");
        assert_eq!((m.balance(), m.state.purchase_count), (Fen::ZERO, 6));
        assert!(
            m.state.relay_open,
            "a meter-mode meter at zero trips itself"
        );
    }

    #[test]
    fn writes_respect_access_and_values() {
        let t0: Timestamp = "2026-06-01T04:00:00Z".parse().expect("ts");
        let mut m = meter(0, MeterInit::default(), t0);
        assert!(matches!(
            m.write(names::BALANCE, 5),
            Err(Refused::ReadOnly(_))
        ));
        assert!(matches!(
            m.write(names::KEEP_POWER, 2),
            Err(Refused::BadValue { .. })
        ));
        m.write(names::PRICE_PEAK, 1_234_500).expect("price");
        assert_eq!(m.value(names::PRICE_PEAK), Some(1_234_500));
        assert!(matches!(
            m.accept_credit(&[1, 2, 3], None),
            Err(Refused::Credit(_))
        ));
    }
}
