//! Checks that a tariff definition can price every Wh exactly one way. Tiers and schedule
//! entries are numbered from 1 in messages, as a person counts them in the file.

use super::error::{DefinitionError, TariffError};
use super::model::{EffectiveTariff, Tariff};
use crate::units::Price;

fn price_not_negative(what: &str, p: Price) -> Result<(), DefinitionError> {
    if p.0 < 0 {
        return Err(DefinitionError::NegativePrice {
            what: what.to_string(),
            price: p.to_string(),
        });
    }
    Ok(())
}

impl Tariff {
    /// The first mistake in this definition, if any.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        match self {
            Tariff::Flat { price } => price_not_negative("flat", *price),
            Tariff::Tiered { tiers } => {
                if tiers.is_empty() {
                    return Err(DefinitionError::NoTiers);
                }
                let last = tiers.len();
                let mut prev: Option<(usize, crate::units::Wh)> = None;
                for (i, tier) in tiers.iter().enumerate() {
                    let n = i + 1;
                    price_not_negative(&format!("tier {n}"), tier.price)?;
                    match tier.up_to {
                        None if n != last => {
                            return Err(DefinitionError::OpenTierNotLast { tier: n });
                        }
                        None => {}
                        Some(up_to) if n == last => {
                            return Err(DefinitionError::LastTierBounded { tier: n, up_to });
                        }
                        Some(up_to) => {
                            if up_to.0 <= 0 {
                                return Err(DefinitionError::TierEmpty { tier: n });
                            }
                            if let Some((prev_tier, prev)) = prev
                                && up_to <= prev
                            {
                                return Err(DefinitionError::TierNotIncreasing {
                                    tier: n,
                                    up_to,
                                    prev_tier,
                                    prev,
                                });
                            }
                            prev = Some((n, up_to));
                        }
                    }
                }
                Ok(())
            }
            Tariff::TimeOfUse { prices, schedule } => {
                for band in super::Band::ALL {
                    price_not_negative(&band.to_string(), prices.get(band))?;
                }
                if schedule.0.is_empty() {
                    return Err(DefinitionError::EmptySchedule);
                }
                for (i, pair) in schedule.0.windows(2).enumerate() {
                    if pair[1].start <= pair[0].start {
                        return Err(DefinitionError::ScheduleOverlap {
                            entry: i + 2,
                            start: pair[1].start.to_string(),
                            prev_entry: i + 1,
                            prev: pair[0].start.to_string(),
                        });
                    }
                }
                Ok(())
            }
        }
    }
}

impl EffectiveTariff {
    /// The first mistake in any version, or in the order of versions.
    pub fn validate(&self) -> Result<(), TariffError> {
        if self.versions.is_empty() {
            return Err(TariffError::NoVersions);
        }
        for (i, v) in self.versions.iter().enumerate() {
            v.tariff.validate().map_err(|why| TariffError::Definition {
                version: i + 1,
                why,
            })?;
            if i > 0 && v.start <= self.versions[i - 1].start {
                return Err(TariffError::VersionOrder {
                    version: i + 1,
                    start: v.start,
                    prev_version: i,
                    prev: self.versions[i - 1].start,
                });
            }
        }
        Ok(())
    }
}
