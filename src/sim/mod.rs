//! Simulated meters, buses and gateways (see docs/simulator.md).
//!
//! A [`Building`] is a set of [`SimBus`]es sharing one [`SimClock`] (with a time-acceleration
//! factor), a site time zone, a TOU schedule and a seed. Each bus is one link — a pty, a
//! Modbus TCP gateway or a serial server carrying raw frames over TCP — with meters that
//! speak Modbus RTU or DL/T 645-2007, answer only for their own addresses, pace their bytes at
//! the line's baud rate and reply after a realistic turnaround. Each meter draws a seeded
//! load, books energy into its TOU registers by local time of day, keeps its own balance
//! (meter billing mode) and trips at zero, and obeys relay, keep-power, prepaid, price and
//! threshold writes. Faults are injected per meter and per bus ([`Faults`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), voltvend::sim::SimError> {
//! use voltvend::sim::{Building, SimConfig, SimProtocol};
//! let building = Building::spawn(SimConfig::quick(4, SimProtocol::Modbus, "pty", 9600)).await?;
//! for line in building.describe() {
//!     println!("{line}"); // e.g. "bus 0 modbus pty /dev/pts/3 link=serial:/dev/pts/3@9600,8E1 …"
//! }
//! # Ok(()) }
//! ```

pub mod building;
pub mod bus;
pub mod clock;
pub mod control;
pub mod credit;
pub mod dlt645;
pub mod faults;
pub mod load;
pub mod meter;
pub mod modbus;
pub mod modem;
pub mod pacing;
pub mod ports;
pub mod tou;

pub use building::{Building, BusConfig, MeterConfig, SimConfig};
pub use bus::{
    BusHandle, BusSetup, BusStats, BusTiming, Endpoint, MeterHandle, MeterSetup, SimAddress,
    SimBus, SimEnv, SimError, SimProtocol, Transport,
};
pub use clock::SimClock;
pub use credit::MasterKeyVerifier;
pub use faults::Faults;
pub use load::{Category, LoadModel};
pub use meter::{
    CreditVerifier, EnergyFault, MeterInit, MeterState, Refused, SimBilling, SimMeter, TripReason,
    VerifiedCredit,
};
pub use tou::{Band, TouSchedule};
