//! The alarm engine on the shared 5,000-meter site (one tenant per meter, 1,000.00 each):
//! how long one pass takes when nothing changed (the engine's steady state, every 2 s and
//! after every ledger commit) and when 500 tenants cross level 1 at once. Ignored by
//! default (it builds the big site); run with
//! `cargo test --test field alarm_scale -- --ignored --nocapture` (figures in docs/alarms.md).

use std::time::{Duration, Instant};

use jiff::Timestamp;
use voltvend::alarm::AlarmKind;
use voltvend::alarm::book;
use voltvend::alarm::engine::pass;
use voltvend::auth::roles::Actor;
use voltvend::ledger::{ChargeConsumption, Ledger};
use voltvend::site::MeterId;
use voltvend::store::Store;
use voltvend::units::{Fen, SubFen, Wh};

use crate::support::big_site as site;
use crate::support::field::alarm_config;
use crate::support::store::temp_db;

#[test]
#[ignore = "builds a 5,000-meter site; run on demand for the figures"]
fn one_pass_over_five_thousand_tenants() {
    let (_dir, db) = temp_db();
    let links: Vec<String> = (0..site::BUSES)
        .map(|b| format!("tcp:127.0.0.1:{}", 20_000 + b))
        .collect();
    site::build_site(&db, 5000, &links);
    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let cfg = alarm_config("bench", Duration::from_secs(2));
    let now = Timestamp::now();
    assert_eq!(pass(&store, &cfg, now).expect("pass"), Default::default());
    let mut idle = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = pass(&store, &cfg, now).expect("pass");
        idle.push(t.elapsed());
        assert_eq!(r, Default::default());
    }
    idle.sort();
    // 500 tenants use 950.00 each: 50.00 left, at or below level 1 (100.00).
    for n in 1..=500 {
        let key = format!("scale-{n}");
        ledger
            .charge_consumption(
                &Actor::system("test"),
                &key,
                ChargeConsumption {
                    meter: MeterId::new(format!("M{n:05}")),
                    reading_key: key.clone(),
                    energy: Wh(95_000),
                    cost: SubFen::from_fen(Fen(95_000)),
                    at: now,
                },
            )
            .expect("charge");
    }
    let t = Instant::now();
    let r = pass(&store, &cfg, now).expect("pass");
    let busy = t.elapsed();
    assert_eq!(r.raised.len(), 500, "{r:?}");
    let active = book::active(&store).expect("active");
    assert_eq!(
        active
            .iter()
            .filter(|a| a.kind == AlarmKind::Level1)
            .count(),
        500
    );
    eprintln!(
        "alarm pass, 5,000 tenants: idle median {:?} (min {:?}, max {:?}); 500 raised in {:?}",
        idle[2], idle[0], idle[4], busy
    );
}
