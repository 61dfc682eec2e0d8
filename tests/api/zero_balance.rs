//! One meaning of zero: a tenant at exactly 0.00 is in arrears for the alarm engine, the
//! status report, host-mode enforcement and the tenant API's status alike (the console's
//! colour is asked in tui's own tests: it calls the same `voltvend_api_types::in_arrears`).
//! One fen above zero, none of them says arrears.

use std::time::Duration;

use voltvend::alarm::AlarmKind;
use voltvend::control::{self, Grace};
use voltvend::daemon::seed::seed_demo_days;
use voltvend::ledger::Ledger;
use voltvend::ledger::outbox::MeterCommand;
use voltvend::site::{UnitNo, repo};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::field::{alarm_config, charge};
use crate::support::store::temp_db;

/// What each part of the system says about tenant `tenant` (meter `meter`) now.
fn verdicts(store: &Store, tenant: &str, meter: &str) -> (bool, String, bool, String) {
    let now = jiff::Timestamp::now();
    voltvend::alarm::engine::pass(store, &alarm_config("t", Duration::from_secs(1)), now)
        .expect("alarm pass");
    let alarm = voltvend::alarm::book::active(store)
        .expect("alarms")
        .iter()
        .any(|a| a.kind == AlarmKind::Arrears && a.subject == format!("tenant:{tenant}"));
    let params = voltvend::report::Params::parse(
        None,
        None,
        None,
        None,
        None,
        now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
    )
    .expect("params");
    let report = voltvend::report::run(store, "status", &params).expect("report");
    let row = report
        .rows
        .iter()
        .find(|r| matches!(&r[0], voltvend::report::table::Cell::Text(m) if m == meter))
        .expect("the meter's row");
    let voltvend::report::table::Cell::Text(status) = &row[4] else {
        panic!("status cell: {row:?}");
    };
    let trips = control::enforce_with(store, &Grace::default(), now).expect("enforce");
    let tripped = trips.iter().any(|id| {
        control::command(store, *id)
            .expect("record")
            .is_some_and(|c| c.meter.as_str() == meter && c.command == MeterCommand::Trip)
    });
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let balance = ledger
        .account(&tenant.into())
        .expect("account")
        .expect("open")
        .balance;
    let tenant_status =
        voltvend::api::tenant::status_of(balance, Fen(10_000), Fen(3_000), false).to_string();
    (alarm, status.clone(), tripped, tenant_status)
}

#[test]
fn zero_means_arrears_in_alarms_reports_trips_and_the_tenant_view() {
    let (_dir, db) = temp_db();
    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    seed_demo_days(&store, &ledger, jiff::Timestamp::now(), 1).expect("seed");
    // A-103 (alarm 2 at 25.00) has a host-billed meter.
    let tenant = repo::tenant_of_unit(&store, &UnitNo::new("A-103"))
        .expect("read")
        .expect("tenant");
    let meter = repo::meters_of_unit(&store, &UnitNo::new("A-103"))
        .expect("meters")
        .into_iter()
        .find(|m| m.billing == voltvend::site::billing::BillingMode::Host)
        .expect("a host-billed meter");
    let (t, m) = (tenant.id.to_string(), meter.id.to_string());
    let balance = || {
        ledger
            .account(&tenant.id)
            .expect("account")
            .expect("open")
            .balance
    };
    // One fen above zero: nobody says arrears.
    charge(&ledger, &m, balance().0 - 1, "down-to-one-fen");
    assert_eq!(balance(), Fen(1));
    let (alarm, report, tripped, status) = verdicts(&store, &t, &m);
    assert!(!alarm, "no arrears alarm at 0.01");
    assert_eq!(report, "alarm 2");
    assert!(!tripped, "no trip at 0.01");
    assert_eq!(status, "alarm2");
    // Exactly zero: everybody says arrears.
    charge(&ledger, &m, 1, "down-to-zero");
    assert_eq!(balance(), Fen::ZERO);
    let (alarm, report, tripped, status) = verdicts(&store, &t, &m);
    assert!(alarm, "the arrears alarm at 0.00");
    assert_eq!(report, "arrears");
    assert!(tripped, "the host-mode meter is tripped at 0.00");
    assert_eq!(status, "arrears");
}
