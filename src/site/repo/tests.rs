use super::*;
use crate::site::model::*;
use crate::tariff::{EffectiveTariff, Tariff};
use crate::units::Fen;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("site.redb")).unwrap();
    (dir, store)
}

fn actor() -> Actor {
    Actor::system("test")
}

fn gateway(id: &str) -> Gateway {
    let gid = GatewayId::from(id);
    Gateway {
        buses: Gateway::parse_buses(&gid, "1:9600:8N1;2:2400:8E1").unwrap(),
        id: gid,
        name: "Gateway".into(),
        link: GatewayLink::parse("tcp:10.0.0.5:502").unwrap(),
    }
}

fn meter(id: &str, addr: u8) -> Meter {
    Meter {
        id: MeterId::from(id),
        address: MeterAddress::Modbus(addr),
        protocol: Protocol::Modbus,
        profile: "generic-modbus".into(),
        phases: Phases::One,
        gateway: GatewayId::from("GW1"),
        bus: 1,
        unit: Some(UnitNo::from("A-101")),
        billing: BillingMode::Host,
        tariff: None,
        power_limit_w: None,
        alarm1: Some(Fen(3000)),
        alarm2: Some(Fen(1000)),
    }
}

fn seed(store: &Store) {
    let txn = store.db().begin_write().unwrap();
    let a = actor();
    upsert_building(
        &txn,
        &a,
        &Building {
            id: "A".into(),
            name: "Tower A".into(),
            floors: Some(10),
        },
    )
    .unwrap();
    upsert_unit(
        &txn,
        &a,
        &Unit {
            no: "A-101".into(),
            building: "A".into(),
            floor: 1,
            area_m2_x100: Some(8550),
        },
    )
    .unwrap();
    upsert_gateway(&txn, &a, &gateway("GW1")).unwrap();
    txn.commit().unwrap();
}

#[test]
fn upsert_reports_added_updated_unchanged_and_audits_changes_only() {
    let (_d, store) = store();
    seed(&store);
    let a = actor();
    let txn = store.db().begin_write().unwrap();
    assert_eq!(
        upsert_meter(&txn, &a, &meter("M1", 5)).unwrap(),
        Change::Added
    );
    assert_eq!(
        upsert_meter(&txn, &a, &meter("M1", 5)).unwrap(),
        Change::Unchanged
    );
    assert_eq!(
        upsert_meter(&txn, &a, &meter("M1", 6)).unwrap(),
        Change::Updated
    );
    txn.commit().unwrap();
    assert_eq!(
        get_meter(&store, &"M1".into()).unwrap(),
        Some(meter("M1", 6))
    );
    let rtxn = store.db().begin_read().unwrap();
    let audit_table = rtxn.open_table(audit::AUDIT).unwrap();
    let actions: Vec<String> = audit_table
        .iter()
        .unwrap()
        .map(|r| {
            let (_, v) = r.unwrap();
            decode::<audit::AuditEntry>("audit", v.value())
                .unwrap()
                .action
        })
        .collect();
    assert_eq!(
        actions,
        [
            "site.building.add",
            "site.unit.add",
            "site.gateway.add",
            "site.meter.add",
            "site.meter.update"
        ]
    );
}

#[test]
fn address_is_unique_per_bus_and_follows_moves() {
    let (_d, store) = store();
    seed(&store);
    let a = actor();
    let txn = store.db().begin_write().unwrap();
    upsert_meter(&txn, &a, &meter("M1", 5)).unwrap();
    let err = upsert_meter(&txn, &a, &meter("M2", 5)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "meter 'M2': address: address 5 on gateway 'GW1' bus 1 is already used by meter 'M1'"
    );
    // The same address on another bus is fine.
    let mut m2 = meter("M2", 5);
    m2.bus = 2;
    upsert_meter(&txn, &a, &m2).unwrap();
    // Moving M1 frees address 5 on bus 1.
    upsert_meter(&txn, &a, &meter("M1", 7)).unwrap();
    upsert_meter(&txn, &a, &meter("M3", 5)).unwrap();
    assert!(remove_meter(&txn, &a, &"M3".into()).unwrap());
    upsert_meter(&txn, &a, &meter("M4", 5)).unwrap();
    txn.commit().unwrap();
}

#[test]
fn unit_index_follows_moves_and_removals() {
    let (_d, store) = store();
    seed(&store);
    let a = actor();
    let txn = store.db().begin_write().unwrap();
    upsert_unit(
        &txn,
        &a,
        &Unit {
            no: "A-1010".into(),
            building: "A".into(),
            floor: 1,
            area_m2_x100: None,
        },
    )
    .unwrap();
    upsert_meter(&txn, &a, &meter("M2", 2)).unwrap();
    upsert_meter(&txn, &a, &meter("M1", 1)).unwrap();
    // A-1010 starts with "A-101": the index must not mix the two units.
    let mut m3 = meter("M3", 3);
    m3.unit = Some("A-1010".into());
    upsert_meter(&txn, &a, &m3).unwrap();
    txn.commit().unwrap();
    let ids = |u: &str| -> Vec<String> {
        meters_of_unit(&store, &UnitNo::from(u))
            .unwrap()
            .iter()
            .map(|m| m.id.to_string())
            .collect()
    };
    assert_eq!(ids("A-101"), ["M1", "M2"]);
    assert_eq!(ids("A-1010"), ["M3"]);
    let txn = store.db().begin_write().unwrap();
    let mut m1 = meter("M1", 1);
    m1.unit = Some("A-1010".into());
    upsert_meter(&txn, &a, &m1).unwrap();
    remove_meter(&txn, &a, &"M2".into()).unwrap();
    txn.commit().unwrap();
    assert_eq!(ids("A-101"), Vec::<String>::new());
    assert_eq!(ids("A-1010"), ["M1", "M3"]);
    // The migration's rebuild gives the same index.
    let txn = store.db().begin_write().unwrap();
    rebuild_unit_meters(&txn).unwrap();
    txn.commit().unwrap();
    assert_eq!(ids("A-1010"), ["M1", "M3"]);
}

#[test]
fn references_are_checked() {
    let (_d, store) = store();
    seed(&store);
    let a = actor();
    let txn = store.db().begin_write().unwrap();
    let mut m = meter("M1", 5);
    m.gateway = "GW9".into();
    assert_eq!(
        upsert_meter(&txn, &a, &m).unwrap_err().to_string(),
        "meter 'M1': gateway: gateway 'GW9' does not exist"
    );
    let mut m = meter("M1", 5);
    m.bus = 3;
    assert_eq!(
        upsert_meter(&txn, &a, &m).unwrap_err().to_string(),
        "meter 'M1': bus: gateway 'GW1' has no bus 3 (it has 1, 2)"
    );
    let mut m = meter("M1", 5);
    m.unit = Some("Z-9".into());
    assert!(upsert_meter(&txn, &a, &m).is_err());
    let mut m = meter("M1", 5);
    m.tariff = Some("night".into());
    assert!(upsert_meter(&txn, &a, &m).is_err());
    let bad = serde_json::json!({"flat": {"price": 6000}});
    assert!(set_tariff(&txn, &a, "night", &bad).is_err());
    let night = Tariff::Flat {
        price: crate::units::Price::parse_yuan_per_kwh("0.60").unwrap(),
    };
    set_effective_tariff(&txn, &a, "night", &EffectiveTariff::single(night)).unwrap();
    upsert_meter(&txn, &a, &m).unwrap();
    assert!(matches!(
        remove_tariff(&txn, &a, "night"),
        Err(SiteError::InUse { .. })
    ));
    // A gateway cannot drop a bus in use, a unit with a meter cannot go.
    let mut g = gateway("GW1");
    g.buses.retain(|b| b.index == 2);
    assert!(matches!(
        upsert_gateway(&txn, &a, &g),
        Err(SiteError::InUse { .. })
    ));
    assert!(matches!(
        remove_unit(&txn, &a, &"A-101".into()),
        Err(SiteError::InUse { .. })
    ));
    let t = Tenant {
        id: "T1".into(),
        name: "Noodles".into(),
        category: "restaurant".into(),
        phone: Some("13800138000".into()),
        units: vec!["A-101".into()],
        pin_hash: None,
    };
    upsert_tenant(&txn, &a, &t).unwrap();
    let t2 = Tenant {
        id: "T2".into(),
        ..t.clone()
    };
    assert_eq!(
        upsert_tenant(&txn, &a, &t2).unwrap_err().to_string(),
        "tenant 'T2': units: unit 'A-101' already belongs to tenant 'T1'"
    );
}

#[test]
fn defaults_round_trip_and_are_checked() {
    let (_d, store) = store();
    assert_eq!(defaults(&store).unwrap(), SiteDefaults::default());
    let a = actor();
    let txn = store.db().begin_write().unwrap();
    let d = SiteDefaults {
        alarm_sms: Some("13900000000".into()),
        ..SiteDefaults::default()
    };
    assert_eq!(set_defaults(&txn, &a, &d).unwrap(), Change::Added);
    assert_eq!(set_defaults(&txn, &a, &d).unwrap(), Change::Unchanged);
    let bad = SiteDefaults {
        alarm1: Fen(1),
        ..d.clone()
    };
    assert!(set_defaults(&txn, &a, &bad).is_err());
    txn.commit().unwrap();
    assert_eq!(defaults(&store).unwrap(), d);
}
