//! Live state in memory: the latest values of every meter and whether meters and gateways
//! answer. The bus tasks write it; the API and the alarm rules read it. Nothing here is
//! persisted: after a restart the first sweep fills it again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use serde::Serialize;

use super::readings::Relay;
use crate::site::ids::{GatewayId, MeterId};
use crate::units::{Fen, Wh};

/// The values a sweep or a full read found, each only when the meter has it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveValues {
    pub total: Option<Wh>,
    pub balance: Option<Fen>,
    pub purchase_count: Option<u32>,
    pub relay: Option<Relay>,
    pub power_w: Option<i64>,
    pub voltage_dv: Vec<i64>,
    pub current_ma: Vec<i64>,
    /// Alarm flags the meter raises itself (names from its profile), e.g. `balance_alarm1`.
    pub alarms: Vec<String>,
}

impl LiveValues {
    /// Takes every value `newer` has, keeping ours where it has none.
    pub fn merge(&mut self, newer: LiveValues) {
        self.total = newer.total.or(self.total);
        self.balance = newer.balance.or(self.balance);
        self.purchase_count = newer.purchase_count.or(self.purchase_count);
        self.relay = newer.relay.or(self.relay);
        self.power_w = newer.power_w.or(self.power_w);
        if !newer.voltage_dv.is_empty() {
            self.voltage_dv = newer.voltage_dv;
        }
        if !newer.current_ma.is_empty() {
            self.current_ma = newer.current_ma;
        }
        self.alarms = newer.alarms;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeterLive {
    pub meter: MeterId,
    pub gateway: GatewayId,
    pub online: bool,
    pub consecutive_failures: u32,
    pub last_ok: Option<Timestamp>,
    pub last_error: Option<String>,
    pub values: LiveValues,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayLive {
    pub gateway: GatewayId,
    pub online: bool,
    pub last_error: Option<String>,
    pub last_cycle_ms: Option<u64>,
}

impl GatewayLive {
    /// A gateway not yet heard from: online until a cycle says otherwise.
    fn new(gateway: &GatewayId) -> GatewayLive {
        GatewayLive {
            gateway: gateway.clone(),
            online: true,
            last_error: None,
            last_cycle_ms: None,
        }
    }
}

#[derive(Default)]
struct Inner {
    meters: HashMap<MeterId, MeterLive>,
    gateways: HashMap<GatewayId, GatewayLive>,
    /// Per bus of a gateway: did its last cycle reach any meter?
    buses: HashMap<(GatewayId, u8), bool>,
}

/// What a meter's state change means for the alarm log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    WentOffline,
    CameOnline,
}

/// Shared live state; cheap to clone.
#[derive(Clone, Default)]
pub struct LiveState {
    inner: Arc<RwLock<Inner>>,
}

impl LiveState {
    pub fn new() -> LiveState {
        LiveState::default()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a meter (online until proven otherwise, so a fresh start raises no alarms).
    pub fn register(&self, meter: &MeterId, gateway: &GatewayId) {
        let mut g = self.write();
        g.meters.entry(meter.clone()).or_insert_with(|| MeterLive {
            meter: meter.clone(),
            gateway: gateway.clone(),
            online: true,
            consecutive_failures: 0,
            last_ok: None,
            last_error: None,
            values: LiveValues::default(),
        });
        g.gateways
            .entry(gateway.clone())
            .or_insert_with(|| GatewayLive::new(gateway));
    }

    /// Records a good reply: the meter is online again from its first good reply.
    pub fn record_ok(&self, meter: &MeterId, at: Timestamp, values: LiveValues) -> Transition {
        let mut g = self.write();
        let Some(m) = g.meters.get_mut(meter) else {
            return Transition::None;
        };
        let was = m.online;
        m.online = true;
        m.consecutive_failures = 0;
        m.last_ok = Some(at);
        m.last_error = None;
        m.values.merge(values);
        if was {
            Transition::None
        } else {
            Transition::CameOnline
        }
    }

    /// Records a failed request; the meter goes offline at `offline_after` failures in a row.
    pub fn record_failure(&self, meter: &MeterId, why: &str, offline_after: u32) -> Transition {
        let mut g = self.write();
        let Some(m) = g.meters.get_mut(meter) else {
            return Transition::None;
        };
        m.consecutive_failures = m.consecutive_failures.saturating_add(1);
        m.last_error = Some(why.to_string());
        if m.online && m.consecutive_failures >= offline_after.max(1) {
            m.online = false;
            Transition::WentOffline
        } else {
            Transition::None
        }
    }

    /// Sets a gateway's health; returns true when it changed.
    pub fn set_gateway(&self, gateway: &GatewayId, online: bool, why: Option<String>) -> bool {
        let mut g = self.write();
        let gw = g
            .gateways
            .entry(gateway.clone())
            .or_insert_with(|| GatewayLive::new(gateway));
        let changed = gw.online != online;
        gw.online = online;
        if why.is_some() || online {
            gw.last_error = why;
        }
        changed
    }

    /// Records the health of one bus of a gateway after a cycle and derives the gateway's:
    /// a gateway is offline when none of its buses reached a meter (its connection failed
    /// or none of its meters answered). Returns the gateway's new state when it changed.
    pub fn set_bus(
        &self,
        gateway: &GatewayId,
        bus: u8,
        ok: bool,
        why: Option<String>,
    ) -> Option<bool> {
        let online = {
            let mut g = self.write();
            g.buses.insert((gateway.clone(), bus), ok);
            g.buses.iter().any(|((gw, _), ok)| gw == gateway && *ok)
        };
        let why = if online { None } else { why };
        self.set_gateway(gateway, online, why).then_some(online)
    }

    pub fn set_cycle_time(&self, gateway: &GatewayId, ms: u64) {
        if let Some(gw) = self.write().gateways.get_mut(gateway) {
            gw.last_cycle_ms = Some(ms);
        }
    }

    pub fn meter(&self, meter: &MeterId) -> Option<MeterLive> {
        self.read().meters.get(meter).cloned()
    }

    pub fn gateway(&self, gateway: &GatewayId) -> Option<GatewayLive> {
        self.read().gateways.get(gateway).cloned()
    }

    /// Every meter, sorted by id.
    pub fn meters(&self) -> Vec<MeterLive> {
        let mut v: Vec<MeterLive> = self.read().meters.values().cloned().collect();
        v.sort_by(|a, b| a.meter.cmp(&b.meter));
        v
    }

    pub fn gateways(&self) -> Vec<GatewayLive> {
        let mut v: Vec<GatewayLive> = self.read().gateways.values().cloned().collect();
        v.sort_by(|a, b| a.gateway.cmp(&b.gateway));
        v
    }

    pub fn offline_meters(&self) -> Vec<MeterId> {
        let mut v: Vec<MeterId> = self
            .read()
            .meters
            .values()
            .filter(|m| !m.online)
            .map(|m| m.meter.clone())
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_after_n_failures_and_online_on_first_good_reply() {
        let live = LiveState::new();
        let (m, g) = (MeterId::new("M1"), GatewayId::new("GW1"));
        live.register(&m, &g);
        assert_eq!(live.record_failure(&m, "no reply", 3), Transition::None);
        assert_eq!(live.record_failure(&m, "no reply", 3), Transition::None);
        assert_eq!(
            live.record_failure(&m, "no reply", 3),
            Transition::WentOffline
        );
        assert_eq!(live.record_failure(&m, "no reply", 3), Transition::None);
        assert_eq!(live.offline_meters(), vec![m.clone()]);
        let vals = LiveValues {
            balance: Some(Fen(100)),
            ..LiveValues::default()
        };
        assert_eq!(
            live.record_ok(&m, Timestamp::now(), vals),
            Transition::CameOnline
        );
        assert!(live.meter(&m).unwrap().online);
        assert_eq!(live.meter(&m).unwrap().values.balance, Some(Fen(100)));
        assert!(live.set_gateway(&g, false, Some("down".into())));
        assert!(!live.set_gateway(&g, false, Some("down".into())));
    }
}
