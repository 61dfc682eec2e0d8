//! Price and settings pushes (issue 4 item 1): the four TOU prices of the meter's tariff in
//! force now (a flat tariff sends its price four times; a tiered one the price of the tier
//! the meter is in this month), and the alarm amounts 1 and 2 and the overload limit. The
//! values are built when the command is sent (so a change queued twice sends the latest),
//! written with the profile's `write_prices` / `write_thresholds`, and confirmed only when
//! every register reads back equal.

use jiff::Timestamp;

use super::{CommandRecord, CommandState, Control, ControlError};
use crate::field::meter_io::{MeterRequest, MeterResponse};
use crate::protocol::profile::CommandKind;
use crate::site::model::Meter;
use crate::site::repo;
use crate::tariff::{Tariff, TariffVersion};

pub const PRICE_REGISTERS: [&str; 4] = ["price_sharp", "price_peak", "price_flat", "price_valley"];
pub const SETTING_REGISTERS: [&str; 3] = ["alarm1", "alarm2", "overload_limit"];

/// The four prices (sharp, peak, flat, valley) in price units the meter should hold now.
pub fn prices_now(
    store: &crate::store::Store,
    m: &Meter,
    now: Timestamp,
) -> Result<[i64; 4], String> {
    let defaults = repo::defaults(store).map_err(|e| e.to_string())?;
    let name = m.tariff_name(&defaults).to_string();
    let t = repo::effective_tariff(store, &name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("tariff '{name}' does not exist"))?;
    let version: Option<&TariffVersion> = t
        .versions
        .iter()
        .rev()
        .find(|v| v.start <= now)
        .or(t.versions.first());
    let Some(v) = version else {
        return Err(format!("tariff '{name}' has no version"));
    };
    Ok(match &v.tariff {
        Tariff::Flat { price } => [price.0; 4],
        Tariff::TimeOfUse { prices, .. } => [
            prices.sharp.0,
            prices.peak.0,
            prices.flat.0,
            prices.valley.0,
        ],
        Tariff::Tiered { tiers } => {
            // The tier of this month's energy so far.
            let tz = defaults.tz();
            let used =
                match crate::field::readings::latest(store, &m.id).map_err(|e| e.to_string())? {
                    Some(r) => crate::field::charge::month_to_date(store, m, &r, &tz)
                        .map_err(|e| e.to_string())?,
                    None => crate::units::Wh::ZERO,
                };
            let tier = tiers
                .iter()
                .find(|t| t.up_to.is_none_or(|u| used < u))
                .or(tiers.last())
                .ok_or_else(|| format!("tariff '{name}' has no tiers"))?;
            [tier.price.0; 4]
        }
    })
}

impl Control {
    /// Advances a `PushPrices` / `PushSettings`; true when it reached a final state.
    pub(super) async fn step_write(
        &self,
        mut rec: CommandRecord,
        prices: bool,
    ) -> Result<bool, ControlError> {
        let meter = match repo::get_meter(&self.store, &rec.meter)? {
            Some(m) => m,
            None => {
                self.finish(
                    rec,
                    CommandState::Failed("the meter is no longer in the site".into()),
                )
                .await?;
                return Ok(true);
            }
        };
        let (kind, names, values): (CommandKind, Vec<&str>, Vec<i64>) = if prices {
            match prices_now(&self.store, &meter, Timestamp::now()) {
                Ok(p) => (
                    CommandKind::WritePrices,
                    PRICE_REGISTERS.to_vec(),
                    p.to_vec(),
                ),
                Err(why) => {
                    self.finish(rec, CommandState::Failed(why)).await?;
                    return Ok(true);
                }
            }
        } else {
            let d = repo::defaults(&self.store)?;
            let (a1, a2) = meter.alarm_levels(&d);
            let limit = meter.power_limit_w.unwrap_or(d.power_limit_w);
            (
                CommandKind::WriteThresholds,
                SETTING_REGISTERS.to_vec(),
                vec![a1.0, a2.0, limit],
            )
        };
        let read_back = |r: &crate::field::meter_io::ReadOutcome| -> Result<(), String> {
            for (n, v) in names.iter().zip(&values) {
                match r.get(n) {
                    Some(x) if x == *v => {}
                    Some(x) => return Err(format!("{n} reads {x}, not {v}")),
                    None => return Err(format!("{n} was not read back")),
                }
            }
            Ok(())
        };
        match self
            .ask(
                &rec.meter,
                MeterRequest::Command {
                    kind,
                    values: values.clone(),
                },
            )
            .await
        {
            Ok(_) => {
                rec.sends += 1;
                rec.state = CommandState::Sent;
                rec.updated = Timestamp::now();
                self.save(&rec).await?;
            }
            Err(e) => return self.failed_attempt(rec, e).await,
        }
        let regs = names.iter().map(|s| s.to_string()).collect();
        match self
            .ask(&rec.meter, MeterRequest::ReadRegisters(regs))
            .await
        {
            Ok(MeterResponse::Values(r)) => match read_back(&r) {
                Ok(()) => {
                    self.finish(rec, CommandState::Confirmed).await?;
                    Ok(true)
                }
                Err(why) => self.failed_attempt(rec, why).await,
            },
            Ok(MeterResponse::Done) => {
                self.failed_attempt(rec, "read-back answered without values".into())
                    .await
            }
            Err(e) => self.failed_attempt(rec, e).await,
        }
    }
}
