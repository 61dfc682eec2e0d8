//! Reading plausibility end to end (issue 13 item 1): the real `voltvend collect --once`
//! against simulated meters over a pty. A meter that answers all-zero energy once and then its
//! true total is charged exactly its real use; a meter that answers one high spike is not
//! charged for it; both are suspect readings with an alarm, and staff decisions (accept charges
//! the spike interval exactly once, reject ignores) are audited. Money exact at every step.

use voltvend::alarm::AlarmKind;
use voltvend::auth::Actor;
use voltvend::auth::roles::Role;
use voltvend::field::charge::LedgerCharger;
use voltvend::field::plausible::SuspectWhy;
use voltvend::field::suspect::{self, SuspectError};
use voltvend::field::{events, readings};
use voltvend::ledger::Ledger;
use voltvend::sim::{Building, BusConfig, EnergyFault, MeterConfig, SimConfig, SimProtocol};
use voltvend::site::MeterId;
use voltvend::site::model::Protocol;
use voltvend::store::Store;
use voltvend::units::{Fen, Price, Wh};

use crate::support::bin::run;
use crate::support::field::{SiteMeter, alarm_config, build_site};
use crate::support::sim::manual_env;
use crate::support::store::temp_db;

const PRICE: &str = "1.00";

pub(super) async fn sim() -> Building {
    let mut b = BusConfig::quick(0, SimProtocol::Modbus, "pty", 9600);
    b.turnaround_ms = 5;
    for a in ["1", "2"] {
        b.meter.push(MeterConfig {
            address: a.into(),
            fixed_w: Some(1500),
            ..MeterConfig::default()
        });
    }
    let cfg = SimConfig {
        buses: vec![b],
        ..SimConfig::default()
    };
    Building::spawn_in(cfg, manual_env(13)).await.expect("sim")
}

/// One full read of every meter by the real binary. Meter time is four simulated minutes per
/// step and the test's steps are seconds apart: scale 3600 lets a second of real time stand
/// for an hour of meter time (20.7 kWh for a 13.8 kW meter), far below the spike.
/// The site both suspect tests read: Acrel meters M1 and M2 (addresses 1 and 2) on the
/// simulator's first bus behind gateway GW1, at 1.00 CNY/kWh.
pub(super) fn two_meter_site(b: &Building, db: &std::path::Path) {
    let meters: Vec<SiteMeter> = [("M1", "1"), ("M2", "2")]
        .iter()
        .map(|(id, a)| SiteMeter {
            id,
            gateway: "GW1",
            address: a,
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk",
        })
        .collect();
    build_site(
        db,
        &[("GW1", &b.bus(0).expect("bus").link())],
        &meters,
        PRICE,
    );
}

pub(super) fn read_once(db: &std::path::Path) {
    let (ok, out, err) = tokio::task::block_in_place(|| {
        run(&[
            "collect",
            "--db",
            db.to_str().expect("utf-8 path"),
            "--once",
            "--tries",
            "2",
            "--meter-time-scale",
            "3600",
        ])
    });
    assert!(ok, "collect --once failed:\n{out}\n{err}");
}

pub(super) fn balance(ledger: &Ledger, meter: &str) -> Fen {
    ledger
        .account(&format!("T-{meter}").as_str().into())
        .expect("account")
        .expect("exists")
        .balance
}

/// The fen charged for `wh` at the flat price, as the ledger posts it (sub-fen carried).
pub(super) fn fen(wh: i64) -> Fen {
    let (f, _) = Price::parse_yuan_per_kwh(PRICE)
        .expect("price")
        .cost(Wh(wh))
        .split()
        .expect("split");
    Fen(-f.0)
}

fn latest(store: &Store, meter: &str) -> readings::Reading {
    readings::latest(store, &MeterId::new(meter))
        .expect("readings")
        .expect("a reading")
}

fn active_suspect_alarms(store: &Store) -> Vec<String> {
    let cfg = alarm_config("site", std::time::Duration::from_secs(1));
    voltvend::alarm::engine::pass(store, &cfg, jiff::Timestamp::now()).expect("alarm pass");
    voltvend::alarm::book::active(store)
        .expect("alarms")
        .into_iter()
        .filter(|a| a.kind == AlarmKind::SuspectReading)
        .map(|a| a.subject)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_answered_once_and_a_spike_are_suspect_and_money_stays_exact() {
    let b = sim().await;
    let (_dir, db) = temp_db();
    two_meter_site(&b, &db);
    let clock = b.clock().clone();
    let step = jiff::SignedDuration::from_mins(4);
    let (m1, m2) = (b.meter(0, "1").expect("m1"), b.meter(0, "2").expect("m2"));
    let staff = Actor::operator("installer", Role::Admin);

    // The first readings are the charged basis.
    read_once(&db);
    let (b1, b2) = {
        let store = Store::open(&db).expect("store");
        (latest(&store, "M1").total, latest(&store, "M2").total)
    };

    // Four minutes of 1.5 kW (100 Wh), then M1 answers all-zero energy once and M2 one spike of 100 MWh.
    clock.advance(step);
    m1.with(|m| m.energy_fault = Some(EnergyFault::ZeroOnce));
    m2.with(|m| m.energy_fault = Some(EnergyFault::SpikeOnce(Wh(100_000_000))));
    read_once(&db);
    let spike_at = {
        let store = Store::open(&db).expect("store");
        let ledger = Ledger::open(store.clone()).expect("ledger");
        assert_eq!(
            latest(&store, "M1").total,
            Wh(0),
            "the zero is stored and shown"
        );
        let spike = latest(&store, "M2");
        assert_eq!(spike.total, b2 + Wh(100) + Wh(100_000_000));
        assert_eq!(balance(&ledger, "M1"), Fen(0), "no charge for a zero");
        assert_eq!(balance(&ledger, "M2"), Fen(0), "no charge for a spike");
        let pending = suspect::list(&store, None, true).expect("suspects");
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert_eq!(pending[0].why, SuspectWhy::Decrease);
        assert!(matches!(pending[1].why, SuspectWhy::TooHigh { .. }));
        assert_eq!(
            active_suspect_alarms(&store),
            ["meter:M1".to_string(), "meter:M2".to_string()]
        );

        // Staff: the zero cannot be accepted (a decrease), store unchanged.
        let m1_meter = voltvend::site::repo::get_meter(&store, &MeterId::new("M1"))
            .expect("site")
            .expect("M1");
        let charger = LedgerCharger::new(store.clone(), ledger.clone());
        let zero_at = pending[0].reading.at_ms();
        assert!(matches!(
            suspect::accept(&store, &charger, &staff, &m1_meter, zero_at),
            Err(SuspectError::Decrease { .. })
        ));
        assert_eq!(
            suspect::list(&store, None, true).expect("suspects"),
            pending
        );
        // The spike accepted: exactly its interval is charged, once.
        let m2_meter = voltvend::site::repo::get_meter(&store, &MeterId::new("M2"))
            .expect("site")
            .expect("M2");
        let spike_wh = (spike.total - b2).0;
        for _ in 0..2 {
            let s = suspect::accept(&store, &charger, &staff, &m2_meter, spike.at_ms())
                .expect("accept");
            assert_eq!(s.decision.as_str(), "accepted");
            assert_eq!(balance(&ledger, "M2"), fen(spike_wh));
        }
        assert_eq!(balance(&ledger, "M1"), Fen(0));
        spike.at_ms()
    };

    // Four minutes more: M1's true total again is charged from its last charged reading (its
    // real use, eight minutes of 1.5 kW); M2's true total is below the accepted spike: suspect.
    clock.advance(step);
    read_once(&db);
    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let t1 = latest(&store, "M1").total;
    assert_eq!(t1, b1 + Wh(200));
    assert_eq!(
        balance(&ledger, "M1"),
        fen((t1 - b1).0),
        "charged real use only"
    );
    let spike_wh = (suspect::get(&store, &MeterId::new("M2"), spike_at)
        .expect("suspect")
        .expect("spike")
        .reading
        .total
        - b2)
        .0;
    assert_eq!(balance(&ledger, "M2"), fen(spike_wh), "nothing more on M2");
    let pending = suspect::list(&store, None, true).expect("suspects");
    assert_eq!(
        pending.len(),
        2,
        "M1's zero and M2's lower total: {pending:?}"
    );

    // Reject both: nothing is charged, the alarms clear, the audit names the operator.
    for s in &pending {
        let r = suspect::reject(&store, &staff, &s.reading.meter, s.reading.at_ms(), false)
            .expect("reject");
        assert_eq!(r.decision.as_str(), "rejected");
    }
    assert_eq!(balance(&ledger, "M1"), fen((t1 - b1).0));
    assert_eq!(balance(&ledger, "M2"), fen(spike_wh));
    assert!(active_suspect_alarms(&store).is_empty());
    let audit = voltvend::auth::audit::recent(&store, 50).expect("audit");
    let decided: Vec<&str> = audit
        .iter()
        .filter(|a| a.action.starts_with("field.suspect_reading."))
        .map(|a| a.action.as_str())
        .collect();
    // The second accept of the spike answered the same and changed nothing.
    assert_eq!(
        decided,
        [
            "field.suspect_reading.accept",
            "field.suspect_reading.reject",
            "field.suspect_reading.reject"
        ]
    );
    assert!(
        events::since(&store, 0)
            .expect("events")
            .iter()
            .all(|e| !matches!(e.kind, events::FieldEventKind::RegisterRollback { .. })),
        "one alarm path for readings"
    );
}
