//! The demo site: two buildings of five floors, 80 units, 78 tenants (two units vacant),
//! three gateways (plain Modbus TCP, RTU over TCP, and the secure link) with eight buses,
//! about ninety meters of both phase kinds and both billing modes (including common-area
//! meters), accounts with balances spread over every status colour, and 30 days of
//! readings so the usage charts have a history. Deterministic: the same seed gives the
//! same site.

use super::DaemonError;
use crate::auth::Actor;
use crate::field::readings::{self, Reading, Relay};
use crate::ledger::{ChargeConsumption, Ledger, MeterAccountInit, OpenAccount, TransferIn};
use crate::site::model::{
    BillingMode, Building, Bus, Framing, Gateway, GatewayLink, Meter, MeterAddress, Phases,
    Protocol, SiteDefaults, Tenant, Unit,
};
use crate::site::{BuildingId, GatewayId, MeterId, TenantId, UnitNo, repo};
use crate::store::{Store, StoreError};
use crate::units::{Fen, Price, SubFen, Wh};
use jiff::{SignedDuration, Timestamp};

/// The demo tenant and PIN printed by `voltvend demo`.
pub const DEMO_UNIT: &str = "A-101";
pub const DEMO_PIN: &str = "1234";
/// The demo operator (admin); the password must be changed at first login.
pub const DEMO_OPERATOR: &str = "admin";
pub const DEMO_OPERATOR_PASSWORD: &str = "voltvend";

/// What was seeded.
#[derive(Debug, Clone, Default)]
pub struct DemoFacts {
    pub tenants: usize,
    pub meters: usize,
    pub readings: usize,
    /// False when the store already held a site (nothing was changed).
    pub created: bool,
}

/// A small deterministic generator (64-bit LCG, Knuth MMIX constants).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

const SHOPS: [(&str, &str); 16] = [
    ("小王面馆", "restaurant"),
    ("晨光文具", "retail"),
    ("悦来茶餐厅", "restaurant"),
    ("优品服饰", "retail"),
    ("百佳便利店", "supermarket"),
    ("明德律师事务所", "office"),
    ("星河影城", "cinema"),
    ("清风书店", "retail"),
    ("好又多超市", "supermarket"),
    ("蓝海科技", "office"),
    ("阿香米线", "restaurant"),
    ("美丽人生美发", "service"),
    ("乐动健身", "entertainment"),
    ("小熊童装", "retail"),
    ("川味小厨", "restaurant"),
    ("华安保险", "office"),
];

/// Average daily energy by category, Wh (low, high).
fn daily_wh(category: &str) -> (i64, i64) {
    match category {
        "restaurant" => (60_000, 140_000),
        "supermarket" => (90_000, 180_000),
        "cinema" => (120_000, 220_000),
        "office" => (12_000, 30_000),
        "entertainment" => (40_000, 80_000),
        _ => (15_000, 45_000),
    }
}

/// Seeds the demo site with 30 days of history into an empty store; does nothing if
/// tenants already exist.
pub fn seed_demo(store: &Store, ledger: &Ledger, now: Timestamp) -> Result<DemoFacts, DaemonError> {
    seed_demo_days(store, ledger, now, 30)
}

/// As [`seed_demo`] with `days` of reading history (tests use fewer).
pub fn seed_demo_days(
    store: &Store,
    ledger: &Ledger,
    now: Timestamp,
    days: i64,
) -> Result<DemoFacts, DaemonError> {
    if !repo::list_tenants(store)?.is_empty() {
        return Ok(DemoFacts::default());
    }
    let actor = Actor::system("demo");
    let mut rng = Lcg(20_261_125);
    let pin_hash = crate::site::pin::hash_pin(DEMO_PIN).map_err(|e| {
        DaemonError::Store(StoreError::Corrupt {
            table: "demo",
            why: e.to_string(),
        })
    })?;

    let mut units = Vec::new();
    let mut tenants: Vec<Tenant> = Vec::new();
    let mut meters: Vec<Meter> = Vec::new();
    // (id, name, link, protocol of each bus). A bus carries one protocol: host-billed
    // meters are Modbus (Acrel), meter-billed ones DL/T 645. The links' ports are
    // placeholders: `voltvend demo` points them at its simulator when it starts.
    let gateways: [(&str, &str, &str, &[Protocol]); 3] = [
        (
            "GW1",
            "A座配电间 A tower switch room",
            "tcp:127.0.0.1:15021",
            &[Protocol::Modbus, Protocol::Modbus, Protocol::Dlt645],
        ),
        (
            "GW2",
            "B座配电间 B tower switch room",
            "rtu-over-tcp:127.0.0.1:15031",
            &[Protocol::Dlt645, Protocol::Dlt645, Protocol::Modbus],
        ),
        (
            "GW3",
            "地下室 Basement (secure link)",
            "secure:127.0.0.1:15041",
            &[Protocol::Modbus, Protocol::Dlt645],
        ),
    ];
    let buses: Vec<(GatewayId, u8, Protocol)> = gateways
        .iter()
        .flat_map(|(g, _, _, ps)| {
            ps.iter()
                .enumerate()
                .map(move |(i, p)| (GatewayId::new(*g), i as u8 + 1, *p))
        })
        .collect();
    let mut next_addr = vec![1u8; buses.len()];
    let mut next_slot = [0usize; 2];
    let mut meter_no = 0u32;
    let mut add_meter =
        |unit: Option<UnitNo>, three: bool, billing: BillingMode, meters: &mut Vec<Meter>| {
            meter_no += 1;
            let id = format!("3100{meter_no:08}");
            let protocol = match billing {
                BillingMode::Meter => Protocol::Dlt645,
                BillingMode::Host => Protocol::Modbus,
            };
            // Round robin over the buses of the meter's protocol.
            let kind = usize::from(protocol == Protocol::Dlt645);
            let of_kind: Vec<usize> = (0..buses.len())
                .filter(|i| buses[*i].2 == protocol)
                .collect();
            let slot = of_kind[next_slot[kind] % of_kind.len()];
            next_slot[kind] += 1;
            let (g, b, _) = buses[slot].clone();
            let (address, profile) = match protocol {
                Protocol::Dlt645 => (MeterAddress::Dlt645(id.clone()), "dlt645-2007-prepaid"),
                Protocol::Modbus => {
                    let a = next_addr[slot];
                    next_addr[slot] += 1;
                    (
                        MeterAddress::Modbus(a),
                        if three {
                            "acrel-dtsy1352-nk"
                        } else {
                            "acrel-ddsy1352-nk"
                        },
                    )
                }
            };
            meters.push(Meter {
                id: MeterId::new(id),
                address,
                protocol,
                profile: profile.to_string(),
                phases: if three { Phases::Three } else { Phases::One },
                gateway: g,
                bus: b,
                unit,
                billing,
                tariff: None,
                power_limit_w: None,
                alarm1: None,
                alarm2: None,
            });
        };
    let mut n = 0usize;
    for b in ["A", "B"] {
        for floor in 1..=5 {
            for i in 1..=8 {
                let no = UnitNo::new(format!("{b}-{floor}{i:02}"));
                units.push(Unit {
                    no: no.clone(),
                    building: BuildingId::new(b),
                    floor,
                    area_m2_x100: Some(rng.range(40, 260) * 100),
                });
                if b == "B" && floor == 5 && i >= 7 {
                    continue; // vacant
                }
                n += 1;
                let (shop, category) = SHOPS[(n - 1) % SHOPS.len()];
                let name = if n <= SHOPS.len() {
                    shop.to_string()
                } else {
                    format!("{shop}（{no}）")
                };
                let billing = if n.is_multiple_of(3) {
                    BillingMode::Host
                } else {
                    BillingMode::Meter
                };
                let three = matches!(category, "restaurant" | "supermarket" | "cinema");
                add_meter(Some(no.clone()), three, billing, &mut meters);
                // Big kitchens have a second, three-phase meter.
                if category == "restaurant" && n % 2 == 1 {
                    add_meter(Some(no.clone()), true, BillingMode::Host, &mut meters);
                }
                tenants.push(Tenant {
                    id: TenantId::new(format!("T{n:04}")),
                    name,
                    category: category.to_string(),
                    phone: Some(format!("1380013{n:04}")),
                    units: vec![no],
                    pin_hash: Some(pin_hash.clone()),
                });
            }
        }
    }
    // Common areas: lifts, lobby lighting, car park, water pumps.
    for _ in 0..4 {
        add_meter(None, true, BillingMode::Host, &mut meters);
    }

    let site = (
        actor.clone(),
        units.clone(),
        meters.clone(),
        tenants.clone(),
    );
    store.write(move |txn| {
        let (actor, units, meters, tenants) = &site;
        let tariff = serde_json::to_value(crate::tariff::Tariff::Flat {
            price: Price::from_fen_per_kwh(120),
        })
        .unwrap_or_default();
        repo::set_tariff(txn, actor, "default", &tariff)?;
        repo::set_defaults(
            txn,
            actor,
            &SiteDefaults {
                alarm1: Fen(10_000),
                alarm2: Fen(3_000),
                hoarding_cap: Fen(300_000),
                ..SiteDefaults::default()
            },
        )?;
        for (id, name) in [("A", "A座 Tower A"), ("B", "B座 Tower B")] {
            repo::upsert_building(
                txn,
                actor,
                &Building {
                    id: BuildingId::new(id),
                    name: name.into(),
                    floors: Some(5),
                },
            )?;
        }
        for u in units {
            repo::upsert_unit(txn, actor, u)?;
        }
        for (id, name, link, protocols) in gateways {
            let nbus = protocols.len() as u8;
            let gid = GatewayId::new(id);
            let link = GatewayLink::parse(link)
                .map_err(|why| DaemonError::Store(StoreError::Corrupt { table: "demo", why }))?;
            repo::upsert_gateway(
                txn,
                actor,
                &Gateway {
                    id: gid.clone(),
                    name: name.into(),
                    link,
                    buses: (1..=nbus)
                        .map(|index| Bus {
                            gateway: gid.clone(),
                            index,
                            baud: 9600,
                            framing: Framing::E81,
                        })
                        .collect(),
                },
            )?;
        }
        for m in meters {
            repo::upsert_meter(txn, actor, m)?;
        }
        for t in tenants {
            repo::upsert_tenant(txn, actor, t)?;
        }
        Ok::<_, DaemonError>(())
    })?;
    crate::auth::operators::add(
        store,
        &actor,
        DEMO_OPERATOR,
        crate::auth::Role::Admin,
        DEMO_OPERATOR_PASSWORD,
    )
    .map_err(|e| {
        DaemonError::Store(StoreError::Corrupt {
            table: "operators",
            why: e.to_string(),
        })
    })?;

    // `days` of readings, every 6 hours, with a daily rhythm and some noise.
    let start = now - SignedDuration::from_hours(24 * days);
    let mut count = 0usize;
    // The last seeded reading of each meter is charged (as the collector would have),
    // so the collector's first start finds nothing left to charge.
    let price = Price::from_fen_per_kwh(120);
    let mut last_charge: std::collections::HashMap<MeterId, ChargeConsumption> =
        std::collections::HashMap::new();
    // Generated first (the generator is outside state), written in one transaction after.
    let mut history = Vec::new();
    for m in &meters {
        let category = m
            .unit
            .as_ref()
            .and_then(|u| tenants.iter().find(|t| t.units.contains(u)))
            .map(|t| t.category.as_str())
            .unwrap_or("service");
        let (lo, hi) = daily_wh(category);
        let base = rng.range(lo, hi);
        // Meters count 0.01 kWh: every seeded total is a whole 10 Wh, so the simulator
        // (started from the last one) continues exactly where the history ends.
        let mut total = rng.range(100_000, 2_000_000) * 10;
        for step in 0..=(days * 4) {
            let at = start + SignedDuration::from_hours(6 * step);
            // Share of a day's energy by quarter: night, morning, afternoon, evening.
            let share = [10, 25, 35, 30][(step % 4) as usize];
            let energy = base * share / 100 * rng.range(80, 120) / 100 / 10 * 10;
            total += energy;
            let reading = Reading {
                meter: m.id.clone(),
                at,
                total: Wh(total),
                bands: None,
                voltage_dv: vec![
                    2_200 + rng.range(-40, 40);
                    if m.phases == Phases::Three { 3 } else { 1 }
                ],
                current_ma: Vec::new(),
                power_w: Some(energy / 6),
                balance: None,
                purchase_count: None,
                relay: Some(Relay::Closed),
                rollback: false,
            };
            last_charge.insert(
                m.id.clone(),
                ChargeConsumption {
                    meter: m.id.clone(),
                    reading_key: reading.key(),
                    energy: Wh(energy),
                    cost: price.cost(Wh(energy)),
                    at,
                },
            );
            history.push(reading);
            count += 1;
        }
    }
    store.write(move |txn| {
        for r in &history {
            readings::put_in(txn, r)?;
        }
        Ok::<_, StoreError>(())
    })?;

    // Accounts, opened in parallel so the ledger can group-commit them.
    let plans: Vec<(TenantId, Vec<MeterAccountInit>, i64, Option<i64>)> = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let ms: Vec<MeterAccountInit> = meters
                .iter()
                .filter(|m| m.unit.as_ref().is_some_and(|u| t.units.contains(u)))
                .map(|m| MeterAccountInit {
                    meter: m.id.clone(),
                    billing: m.billing,
                })
                .collect();
            // Balance in fen and an optional consumption charge to reach it.
            let (opening, charge) = match i {
                0 => (18_650, None),       // normal
                1 => (8_000, None),        // alarm 1
                2 => (2_500, None),        // alarm 2
                3 => (1_000, Some(2_500)), // arrears: −25.00
                _ => (rng.range(150, 1_800) * 100, None),
            };
            // The opening balance also pays the last seeded charge of each meter, so the
            // balance after it is the one chosen above.
            let last: i64 = ms
                .iter()
                .filter_map(|m| last_charge.get(&m.meter))
                .map(|c| c.cost.split().map_or(0, |(fen, _)| fen.0))
                .sum();
            (
                t.id.clone(),
                ms,
                opening + last,
                charge.map(|c| opening + c),
            )
        })
        .collect();
    let errors = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for chunk in plans.chunks(plans.len().div_ceil(8).max(1)) {
            let errors = &errors;
            let actor = &actor;
            let last_charge = &last_charge;
            s.spawn(move || {
                for (tenant, ms, opening, charge) in chunk {
                    let r = ledger.open_account(
                        actor,
                        &format!("demo:open:{tenant}"),
                        OpenAccount {
                            tenant: tenant.clone(),
                            meters: ms.clone(),
                            transfer_in: Some(TransferIn {
                                amount: Fen(*opening),
                                old_meter_serial: format!("OLD-{tenant}"),
                            }),
                        },
                    );
                    if let Err(e) = r {
                        errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                        continue;
                    }
                    for m in ms {
                        if let Some(c) = last_charge.get(&m.meter) {
                            // The collector's key for this reading: its restart re-post
                            // is then a no-op.
                            let r = ledger.charge_consumption(actor, &c.reading_key, c.clone());
                            if let Err(e) = r {
                                errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                            }
                        }
                    }
                    if let (Some(c), Some(m)) = (charge, ms.first()) {
                        let r = ledger.charge_consumption(
                            actor,
                            &format!("demo:charge:{tenant}"),
                            ChargeConsumption {
                                meter: m.meter.clone(),
                                reading_key: format!("demo:{}", m.meter),
                                energy: Wh(c * 10),
                                cost: SubFen::from_fen(Fen(*c)),
                                at: now,
                            },
                        );
                        if let Err(e) = r {
                            errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = errors.into_inner().unwrap_or_default().into_iter().next() {
        return Err(e.into());
    }
    Ok(DemoFacts {
        tenants: tenants.len(),
        meters: meters.len(),
        readings: count,
        created: true,
    })
}
