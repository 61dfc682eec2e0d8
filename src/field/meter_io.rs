//! Reading and commanding one meter through its profile: the profile plans the requests
//! (adjacent registers merged), the bus carries them, the profile decodes the answers into
//! exact integers in canonical units. Protocol-specific only in which transport it calls.

use std::collections::BTreeMap;

use super::error::FieldError;
use super::live::LiveValues;
use super::readings::{Reading, Relay};
use super::transport::ModbusBus;
use super::transport_dlt645::Dlt645Bus;
use super::unsupported::{Unsupported, is_unsupported};
use crate::protocol::dlt645::{self, build};
use crate::protocol::profile::{
    CommandAction, CommandKind, Group, Location, Profile, ReadBlock, ReadRequest, Register, names,
};
use crate::site::ids::MeterId;
use crate::units::{Fen, Wh};

/// The transport of one bus, and what its meters said they do not implement.
pub struct BusIo {
    line: Line,
    unsupported: Unsupported,
}

enum Line {
    Modbus(ModbusBus),
    Dlt645(Dlt645Bus),
}

/// What a read of some blocks gave: every decoded value, and each block that failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    /// Register name → canonical integer (see `protocol::profile::Quantity`).
    pub values: BTreeMap<String, i64>,
    /// Blocks that failed, with the registers they would have carried and why.
    pub failures: Vec<BlockFailure>,
    /// Blocks the meter does not implement (it answered "no such register" now or
    /// earlier; see [`super::unsupported`]), with their registers.
    pub unsupported: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockFailure {
    /// `registers 0x0100..0x0106` or `data identifier 00900200`.
    pub block: String,
    pub registers: Vec<String>,
    pub error: FieldError,
}

impl ReadOutcome {
    /// True when the meter answered at least one block (even with an exception).
    pub fn answered(&self) -> bool {
        !self.values.is_empty() || self.failures.iter().any(|f| f.error.meter_answered())
    }

    /// The first failure that says the meter is silent or unreachable.
    pub fn silence(&self) -> Option<&FieldError> {
        self.failures
            .iter()
            .map(|f| &f.error)
            .find(|e| !e.meter_answered())
    }

    pub fn get(&self, name: &str) -> Option<i64> {
        self.values.get(name).copied()
    }

    /// The live-state view of these values.
    pub fn live_values(&self) -> LiveValues {
        let phases = |single: &str, per: [&str; 3]| -> Vec<i64> {
            match self.get(single) {
                Some(v) => vec![v],
                None => per.iter().filter_map(|n| self.get(n)).collect(),
            }
        };
        let overdraft = self.get("overdraft").unwrap_or(0);
        LiveValues {
            total: self.total().map(Wh),
            balance: self.get(names::BALANCE).map(|b| {
                // DL/T 645 reports money owed separately (00900201); a positive overdraft
                // is a negative balance.
                if overdraft > 0 && b == 0 {
                    Fen(-overdraft)
                } else {
                    Fen(b)
                }
            }),
            purchase_count: self
                .get(names::PURCHASE_COUNT)
                .and_then(|c| u32::try_from(c).ok()),
            relay: self
                .get(names::RELAY_OPEN)
                .map(|v| if v != 0 { Relay::Open } else { Relay::Closed }),
            power_w: self.get(names::POWER).or_else(|| {
                let per: Vec<i64> = [names::POWER_A, names::POWER_B, names::POWER_C]
                    .iter()
                    .filter_map(|n| self.get(n))
                    .collect();
                (!per.is_empty()).then(|| per.iter().sum())
            }),
            voltage_dv: phases(
                names::VOLTAGE,
                [names::VOLTAGE_A, names::VOLTAGE_B, names::VOLTAGE_C],
            ),
            current_ma: phases(
                names::CURRENT,
                [names::CURRENT_A, names::CURRENT_B, names::CURRENT_C],
            ),
            alarms: self
                .values
                .iter()
                .filter(|(n, v)| n.ends_with("_alarm") && **v != 0)
                .map(|(n, _)| n.clone())
                .collect(),
        }
    }

    /// The total active energy register: forward active total, else combined.
    pub fn total(&self) -> Option<i64> {
        self.get(names::ENERGY_TOTAL)
            .or_else(|| self.get("energy_combined"))
    }

    /// A full reading, when the energy total was read.
    pub fn reading(&self, meter: &MeterId, at: jiff::Timestamp) -> Option<Reading> {
        let total = Wh(self.total()?);
        let bands = names::ENERGY_BANDS
            .iter()
            .map(|n| self.get(n).map(Wh))
            .collect::<Option<Vec<Wh>>>()
            .and_then(|v| <[Wh; 4]>::try_from(v).ok());
        let live = self.live_values();
        Some(Reading {
            meter: meter.clone(),
            at,
            total,
            bands,
            voltage_dv: live.voltage_dv,
            current_ma: live.current_ma,
            power_w: live.power_w,
            balance: live.balance,
            purchase_count: live.purchase_count,
            relay: live.relay,
            rollback: false,
        })
    }
}

/// How a read reacts to a silent meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSilence {
    /// Skip the meter's remaining blocks (the collector: a dead meter must not stall the bus).
    GiveUp,
    /// Try every block anyway (`voltvend read`: show everything that can be read).
    TryAll,
}

/// A request the control queue (or an operator) submits for one meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterRequest {
    /// Read a group of the meter's profile now.
    Read(Group),
    /// Read these registers now.
    ReadRegisters(Vec<String>),
    /// Run a profile command; `values` are canonical integers for the registers a
    /// `WriteRegisters` command names, in order (empty for fixed commands such as a trip).
    Command { kind: CommandKind, values: Vec<i64> },
    /// Write raw bytes to a `bytes` register (the credit token): Modbus as big-endian
    /// words from the register's address, DL/T 645 as a write (C = 14H) of its item.
    WriteBytes { register: String, bytes: Vec<u8> },
}

/// The answer to a [`MeterRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterResponse {
    Values(ReadOutcome),
    Done,
}

fn describe(block: &ReadBlock) -> String {
    match block.request {
        ReadRequest::Holding { start, count } => format!(
            "registers 0x{start:04X}..0x{:04X}",
            u32::from(start) + u32::from(count).saturating_sub(1)
        ),
        ReadRequest::Dlt645 { di } => format!("data identifier {di:08X}"),
    }
}

impl BusIo {
    /// The transport for `protocol` over `via`; nothing is opened until the first request.
    pub fn new(
        via: super::link::Via,
        protocol: crate::site::model::Protocol,
        timing: super::wire::LineTiming,
        policy: super::transport::RetryPolicy,
    ) -> BusIo {
        let line = match protocol {
            crate::site::model::Protocol::Modbus => {
                Line::Modbus(ModbusBus::new(via, timing, policy))
            }
            crate::site::model::Protocol::Dlt645 => {
                Line::Dlt645(Dlt645Bus::new(via, timing, policy))
            }
        };
        BusIo {
            line,
            unsupported: Unsupported::default(),
        }
    }

    /// The DL/T 645 transport, for requests outside a profile (broadcast read-address).
    pub fn dlt645_mut(&mut self) -> Option<&mut Dlt645Bus> {
        match &mut self.line {
            Line::Dlt645(b) => Some(b),
            Line::Modbus(_) => None,
        }
    }

    pub fn stats(&self) -> super::transport::BusStats {
        match &self.line {
            Line::Modbus(b) => b.line.stats,
            Line::Dlt645(b) => b.line.stats,
        }
    }

    /// The meter about to be talked to answers after `profile`'s documented turnaround; the
    /// floor of the exchanges with it counts that.
    fn talking_to(&mut self, profile: &Profile) {
        match &mut self.line {
            Line::Modbus(b) => b.line.turnaround = profile.turnaround,
            Line::Dlt645(b) => b.line.turnaround = profile.turnaround,
        }
    }

    pub fn reset_stats(&mut self) {
        match &mut self.line {
            Line::Modbus(b) => b.line.stats = Default::default(),
            Line::Dlt645(b) => b.line.stats = Default::default(),
        }
    }

    pub async fn connect(&mut self) -> Result<(), FieldError> {
        match &mut self.line {
            Line::Modbus(b) => b.connect().await,
            Line::Dlt645(b) => b.connect().await,
        }
    }

    /// Reads `blocks` of `profile` from the meter at `address`. A sweep
    /// ([`OnSilence::GiveUp`]) leaves out the blocks this meter said it does not implement,
    /// until their daily retry; [`OnSilence::TryAll`] asks for every block.
    pub async fn read_blocks(
        &mut self,
        address: &str,
        profile: &Profile,
        blocks: &[ReadBlock],
        on_silence: OnSilence,
    ) -> ReadOutcome {
        let mut out = ReadOutcome::default();
        for block in blocks {
            let name = describe(block);
            if on_silence == OnSilence::GiveUp
                && self
                    .unsupported
                    .skip(address, &name, std::time::Instant::now())
            {
                out.unsupported.push((name, block.registers.clone()));
                continue;
            }
            let result = self.read_block(address, profile, block).await;
            match &result {
                Ok(_) => self.unsupported.clear(address, &name),
                Err(e) if is_unsupported(e) => {
                    self.unsupported
                        .mark(address, &name, std::time::Instant::now());
                    out.unsupported
                        .push((name.clone(), block.registers.clone()));
                }
                Err(_) => {}
            }
            match result {
                Ok(values) => {
                    for (name, v) in values {
                        match v {
                            Ok(v) => {
                                out.values.insert(name, v);
                            }
                            Err(e) => out.failures.push(BlockFailure {
                                block: describe(block),
                                registers: vec![name],
                                error: FieldError::Other(e.to_string()),
                            }),
                        }
                    }
                }
                Err(error) => {
                    let silent = !error.meter_answered();
                    out.failures.push(BlockFailure {
                        block: describe(block),
                        registers: block.registers.clone(),
                        error,
                    });
                    if silent && on_silence == OnSilence::GiveUp {
                        break;
                    }
                }
            }
        }
        out
    }

    async fn read_block(
        &mut self,
        address: &str,
        profile: &Profile,
        block: &ReadBlock,
    ) -> Result<Vec<(String, Result<i64, String>)>, FieldError> {
        self.talking_to(profile);
        match (&mut self.line, &block.request) {
            (Line::Modbus(bus), ReadRequest::Holding { start, count }) => {
                let slave = modbus_slave(address)?;
                let words = bus.read_holding(slave, *start, *count).await?;
                Ok(profile
                    .decode_block(block, &words)
                    .into_iter()
                    .map(|(n, r)| (n, r.map_err(|e| e.to_string())))
                    .collect())
            }
            (Line::Dlt645(bus), ReadRequest::Dlt645 { di }) => {
                let data = bus.read(address, *di).await?;
                Ok(block
                    .registers
                    .iter()
                    .filter_map(|n| profile.register(n))
                    .map(|r| {
                        (
                            r.name.clone(),
                            r.decode_dlt645(&data).map_err(|e| e.to_string()),
                        )
                    })
                    .collect())
            }
            _ => Err(FieldError::Other(format!(
                "profile {} speaks another protocol than this bus",
                profile.name
            ))),
        }
    }

    /// Runs one request for the meter at `address`.
    pub async fn run(
        &mut self,
        address: &str,
        profile: &Profile,
        request: &MeterRequest,
        max_regs: u16,
    ) -> Result<MeterResponse, FieldError> {
        self.talking_to(profile);
        match request {
            MeterRequest::Read(group) => {
                let blocks = profile.plan_reads(*group, max_regs);
                let out = self
                    .read_blocks(address, profile, &blocks, OnSilence::GiveUp)
                    .await;
                match out.silence() {
                    Some(e) if out.values.is_empty() => Err(e.clone()),
                    _ => Ok(MeterResponse::Values(out)),
                }
            }
            MeterRequest::ReadRegisters(regs) => {
                let names: Vec<&str> = regs.iter().map(String::as_str).collect();
                let blocks = profile.plan_reads_for(&names, max_regs);
                let out = self
                    .read_blocks(address, profile, &blocks, OnSilence::GiveUp)
                    .await;
                match out.silence() {
                    Some(e) if out.values.is_empty() => Err(e.clone()),
                    _ => Ok(MeterResponse::Values(out)),
                }
            }
            MeterRequest::Command { kind, values } => {
                self.command(address, profile, *kind, values).await?;
                Ok(MeterResponse::Done)
            }
            MeterRequest::WriteBytes { register, bytes } => {
                self.write_bytes(address, profile, register, bytes).await?;
                Ok(MeterResponse::Done)
            }
        }
    }

    async fn write_bytes(
        &mut self,
        address: &str,
        profile: &Profile,
        register: &str,
        bytes: &[u8],
    ) -> Result<(), FieldError> {
        let reg = register_of(profile, register)?;
        match (&mut self.line, &reg.location) {
            (Line::Modbus(bus), Location::Holding(a)) => {
                if !bytes.len().is_multiple_of(2) {
                    return Err(FieldError::Other(format!(
                        "{register}: {} bytes do not fill whole registers",
                        bytes.len()
                    )));
                }
                let words: Vec<u16> = bytes
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                bus.write_registers(modbus_slave(address)?, *a, &words)
                    .await
            }
            (Line::Dlt645(bus), Location::Dlt645(di)) => {
                let addr = dlt645::Address::parse(address)
                    .map_err(|e| FieldError::Other(e.to_string()))?;
                let frame = build::write(
                    addr,
                    dlt645::di::Di(*di),
                    build::Password::DEFAULT_LEVEL2,
                    build::OperatorCode([0; 4]),
                    bytes,
                );
                bus.command(address, &frame).await
            }
            _ => Err(FieldError::Other(format!(
                "{register} of profile {} does not fit this bus's protocol",
                profile.name
            ))),
        }
    }

    async fn command(
        &mut self,
        address: &str,
        profile: &Profile,
        kind: CommandKind,
        values: &[i64],
    ) -> Result<(), FieldError> {
        let cmd = profile.command(kind).ok_or_else(|| {
            FieldError::Other(format!(
                "profile {} has no command {}",
                profile.name,
                kind.as_str()
            ))
        })?;
        match (&mut self.line, &cmd.action) {
            (
                Line::Modbus(bus),
                CommandAction::WriteWords {
                    address: reg,
                    values,
                },
            ) => {
                bus.write_registers(modbus_slave(address)?, *reg, values)
                    .await
            }
            (Line::Modbus(bus), CommandAction::WriteRegisters { registers }) => {
                let slave = modbus_slave(address)?;
                // Contiguous registers go in one write, as the meter expects them together.
                let mut start: Option<u16> = None;
                let mut words: Vec<u16> = Vec::new();
                for (i, name) in registers.iter().enumerate() {
                    let reg = register_of(profile, name)?;
                    let Location::Holding(a) = reg.location else {
                        return Err(FieldError::Other(format!(
                            "{name} is not a Modbus register"
                        )));
                    };
                    let v = value_for(values, i, name)?;
                    let w = reg
                        .encode_words(v)
                        .map_err(|e| FieldError::Other(e.to_string()))?;
                    match start {
                        Some(s) if u32::from(s) + words.len() as u32 == u32::from(a) => {}
                        Some(s) => {
                            bus.write_registers(slave, s, &words).await?;
                            words.clear();
                            start = Some(a);
                        }
                        None => start = Some(a),
                    }
                    words.extend(w);
                }
                if let Some(s) = start {
                    bus.write_registers(slave, s, &words).await?;
                }
                Ok(())
            }
            (Line::Dlt645(bus), CommandAction::Dlt645Control { n1 }) => {
                let addr = dlt645::Address::parse(address)
                    .map_err(|e| FieldError::Other(e.to_string()))?;
                let command = build::RelayCommand::from_n1(*n1)
                    .ok_or_else(|| FieldError::Other(format!("unknown relay code 0x{n1:02X}")))?;
                let frame = build::relay_control(
                    addr,
                    build::Password::DEFAULT_LEVEL2,
                    build::OperatorCode([0; 4]),
                    command,
                    build::MeterTime::NONE,
                )
                .map_err(|e| FieldError::Other(e.to_string()))?;
                bus.command(address, &frame).await
            }
            (Line::Dlt645(bus), CommandAction::WriteRegisters { registers }) => {
                let addr = dlt645::Address::parse(address)
                    .map_err(|e| FieldError::Other(e.to_string()))?;
                for (i, name) in registers.iter().enumerate() {
                    let reg = register_of(profile, name)?;
                    let Location::Dlt645(di) = reg.location else {
                        return Err(FieldError::Other(format!("{name} is not a DL/T 645 item")));
                    };
                    let v = value_for(values, i, name)?;
                    let data = reg
                        .encode_dlt645(v)
                        .map_err(|e| FieldError::Other(e.to_string()))?;
                    let frame = build::write(
                        addr,
                        dlt645::di::Di(di),
                        build::Password::DEFAULT_LEVEL2,
                        build::OperatorCode([0; 4]),
                        &data,
                    );
                    bus.command(address, &frame).await?;
                }
                Ok(())
            }
            _ => Err(FieldError::Other(format!(
                "command {} of profile {} does not fit this bus's protocol",
                kind.as_str(),
                profile.name
            ))),
        }
    }
}

/// The register `name` of `profile`, or an error naming both.
fn register_of<'p>(profile: &'p Profile, name: &str) -> Result<&'p Register, FieldError> {
    profile.register(name).ok_or_else(|| {
        FieldError::Other(format!("profile {} has no register {name}", profile.name))
    })
}

/// The `i`-th value of a command that writes several registers (`name` is the i-th).
fn value_for(values: &[i64], i: usize, name: &str) -> Result<i64, FieldError> {
    values
        .get(i)
        .copied()
        .ok_or_else(|| FieldError::Other(format!("no value given for {name}")))
}

pub fn modbus_slave(address: &str) -> Result<u8, FieldError> {
    match address.parse::<u8>() {
        Ok(a @ 1..=247) => Ok(a),
        _ => Err(FieldError::Other(format!(
            "'{address}' is not a Modbus address (1-247)"
        ))),
    }
}
