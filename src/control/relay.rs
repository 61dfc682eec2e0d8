//! Relay commands on meters whose relay state cannot be read, and the rule that only the
//! latest wanted relay state is pursued.
//!
//! A meter on the documented map only (no prepaid block: the relay-state register answers
//! "no such register") still obeys the trip and close writes. What it can tell is the
//! write's acknowledgement and its power and current: after a trip both read zero. After a
//! close, power above zero proves it; at no load an open and a closed relay read alike, so
//! the acknowledged write is all the meter can say and is taken as confirmation.
//!
//! Flapping: a trip and a later close (or the reverse) both waiting for the same meter
//! would, retried in turn, switch the tenant's relay at every retry. Only the newest relay
//! command of a meter is pursued; the older ones finish as superseded, never sent again.

use std::collections::HashMap;

use super::Check;
use crate::field::meter_io::ReadOutcome;
use crate::ledger::outbox::{MeterCommand, OutboxEntry};
use crate::protocol::profile::names;

/// Whether a command sets the relay (trip or close).
pub fn is_relay(command: &MeterCommand) -> bool {
    matches!(command, MeterCommand::Trip | MeterCommand::Close)
}

/// The relay commands among `pending` that a newer relay command of the same meter
/// replaces, each with the id of the one that replaces it.
pub fn superseded(pending: &[OutboxEntry]) -> Vec<(u64, u64)> {
    let mut newest: HashMap<&str, u64> = HashMap::new();
    for e in pending.iter().filter(|e| is_relay(&e.command)) {
        let n = newest.entry(e.meter.as_str()).or_insert(e.id);
        *n = (*n).max(e.id);
    }
    pending
        .iter()
        .filter(|e| is_relay(&e.command))
        .filter_map(|e| {
            let n = newest.get(e.meter.as_str()).copied()?;
            (n != e.id).then_some((e.id, n))
        })
        .collect()
}

/// The check of a trip or close from the power and current, when the relay state was not
/// read (called only after the meter acknowledged the write).
pub(super) fn check_by_power(command: &MeterCommand, read: &ReadOutcome) -> Check {
    let power = read
        .get(names::POWER)
        .or_else(|| phase_sum(read, &[names::POWER_A, names::POWER_B, names::POWER_C]));
    let current = read.get(names::CURRENT).or_else(|| {
        phase_sum(
            read,
            &[names::CURRENT_A, names::CURRENT_B, names::CURRENT_C],
        )
    });
    if power.is_none() && current.is_none() {
        return Check::NotYet("neither the relay state nor the power was read".into());
    }
    let flowing = power.is_some_and(|p| p != 0) || current.is_some_and(|c| c != 0);
    match command {
        MeterCommand::Trip if flowing => Check::NotYet(format!(
            "power still flows after the trip ({} W, {} mA)",
            power.map_or("-".into(), |p| p.to_string()),
            current.map_or("-".into(), |c| c.to_string())
        )),
        _ => Check::Confirmed,
    }
}

fn phase_sum(read: &ReadOutcome, names: &[&str]) -> Option<i64> {
    let v: Vec<i64> = names.iter().filter_map(|n| read.get(n)).collect();
    (!v.is_empty()).then(|| v.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::MeterId;

    fn entry(id: u64, meter: &str, command: MeterCommand) -> OutboxEntry {
        OutboxEntry {
            id,
            meter: MeterId::new(meter),
            command,
            cause_op: 0,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn read(pairs: &[(&str, i64)]) -> ReadOutcome {
        ReadOutcome {
            values: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..ReadOutcome::default()
        }
    }

    #[test]
    fn only_the_newest_relay_command_of_a_meter_is_pursued() {
        let pending = vec![
            entry(1, "M1", MeterCommand::Trip),
            entry(2, "M1", MeterCommand::KeepPower(true)),
            entry(3, "M2", MeterCommand::Trip),
            entry(4, "M1", MeterCommand::Close),
            entry(5, "M1", MeterCommand::Trip),
        ];
        assert_eq!(superseded(&pending), vec![(1, 5), (4, 5)]);
        assert!(superseded(&pending[..3]).is_empty());
    }

    #[test]
    fn power_confirms_a_trip_and_refuses_one_that_did_not_cut() {
        let trip = MeterCommand::Trip;
        assert_eq!(
            check_by_power(&trip, &read(&[(names::POWER, 0), (names::CURRENT, 0)])),
            Check::Confirmed
        );
        assert!(matches!(
            check_by_power(&trip, &read(&[(names::POWER, 1800)])),
            Check::NotYet(_)
        ));
        assert!(matches!(
            check_by_power(&trip, &read(&[(names::POWER, 0), (names::CURRENT, 40)])),
            Check::NotYet(_)
        ));
        assert!(
            matches!(check_by_power(&trip, &read(&[])), Check::NotYet(_)),
            "nothing read"
        );
        let close = MeterCommand::Close;
        assert_eq!(
            check_by_power(&close, &read(&[(names::POWER, 1800)])),
            Check::Confirmed
        );
        assert_eq!(
            check_by_power(&close, &read(&[(names::POWER, 0)])),
            Check::Confirmed,
            "no load"
        );
        assert!(matches!(
            check_by_power(&close, &read(&[])),
            Check::NotYet(_)
        ));
    }
}
