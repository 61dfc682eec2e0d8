//! Site records as the test and bench sites write them: a gateway with one bus, a plain
//! host-billed meter. Pure builders (no store), so the benches can include this file too
//! (`#[path]`), and every site builder writes the same records.

use voltvend::site::model::{
    BillingMode, Bus, Framing, Gateway, GatewayLink, Meter, MeterAddress, Phases, Protocol,
};
use voltvend::site::{GatewayId, MeterId};

/// Gateway `id` at `link` with one bus (index 1) at `baud`, 8E1.
pub fn one_bus_gateway(id: &str, name: String, link: &str, baud: u32) -> Gateway {
    let id = GatewayId::new(id);
    Gateway {
        id: id.clone(),
        name,
        link: GatewayLink::parse(link).expect("link"),
        buses: vec![Bus {
            gateway: id,
            index: 1,
            baud,
            framing: Framing::E81,
        }],
    }
}

/// A single-phase, host-billed meter on bus 1 of `gateway`: no unit, own tariff, power
/// limit or alarm levels (set those with struct update syntax).
pub fn host_meter(
    id: &str,
    address: MeterAddress,
    protocol: Protocol,
    profile: &str,
    gateway: &str,
) -> Meter {
    Meter {
        id: MeterId::new(id),
        address,
        protocol,
        profile: profile.into(),
        phases: Phases::One,
        gateway: GatewayId::new(gateway),
        bus: 1,
        unit: None,
        billing: BillingMode::Host,
        tariff: None,
        power_limit_w: None,
        alarm1: None,
        alarm2: None,
    }
}
