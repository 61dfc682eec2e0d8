//! The simulated building: Modbus and DL/T 645 meters on ptys and TCP, faults, timing at
//! the bus speed, and credit tokens.

#[path = "../support/mod.rs"]
mod support;

mod credit;
mod dlt645;
mod faults;
mod modbus;
mod timing;
