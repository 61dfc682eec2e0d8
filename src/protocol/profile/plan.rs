//! Read planning: the few requests that cover a group of registers, adjacent registers
//! merged and small gaps read through, and the decoding of a block's words.

use super::value::{Access, DecodeError, Location, Register};
use super::{MODBUS_MAX_READ_REGISTERS, Profile, ProfileProtocol};
use std::collections::BTreeMap;

/// Which registers a read covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The fast live-status sweep (balance, relay, power, alarms).
    Live,
    /// The full archival read (every readable register).
    Full,
}

/// One request of a read plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadRequest {
    /// Modbus function 03 of `count` registers from `start`.
    Holding { start: u16, count: u16 },
    /// DL/T 645 read (C = 0x11) of one data identifier.
    Dlt645 { di: u32 },
}

/// A request and the registers it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBlock {
    pub request: ReadRequest,
    /// Names of the registers this block covers, in address order.
    pub registers: Vec<String>,
}

impl Profile {
    /// Plans the reads of a group: adjacent registers merged into as few requests as
    /// `max_regs_per_request` allows (capped by the profile's own limit), reading through
    /// gaps of at most `read_through_gap` unused registers.
    pub fn plan_reads(&self, group: Group, max_regs_per_request: u16) -> Vec<ReadBlock> {
        let names: Vec<&str> = self.group(group).iter().map(String::as_str).collect();
        self.plan_reads_for(&names, max_regs_per_request)
    }

    /// Plans the reads of the named registers (unknown and write-only names are skipped).
    pub fn plan_reads_for(&self, names: &[&str], max_regs_per_request: u16) -> Vec<ReadBlock> {
        let mut regs: Vec<&Register> = names
            .iter()
            .filter_map(|n| self.register(n))
            .filter(|r| r.access != Access::W)
            .collect();
        match self.protocol {
            ProfileProtocol::Dlt645 => {
                // One request per data identifier; registers sharing a DI share the read.
                let mut by_di: BTreeMap<u32, Vec<String>> = BTreeMap::new();
                for r in regs {
                    if let Location::Dlt645(di) = r.location {
                        let v = by_di.entry(di).or_default();
                        if !v.contains(&r.name) {
                            v.push(r.name.clone());
                        }
                    }
                }
                by_di
                    .into_iter()
                    .map(|(di, registers)| ReadBlock {
                        request: ReadRequest::Dlt645 { di },
                        registers,
                    })
                    .collect()
            }
            ProfileProtocol::Modbus => {
                regs.sort_by_key(|r| r.address().unwrap_or(0));
                regs.dedup_by_key(|r| r.name.clone());
                let max = max_regs_per_request
                    .min(self.max_registers_per_request)
                    .clamp(1, MODBUS_MAX_READ_REGISTERS);
                let mut blocks: Vec<ReadBlock> = Vec::new();
                let mut cur: Option<(u16, u32, Vec<String>)> = None; // start, end (excl), names
                for r in regs {
                    let Some(a) = r.address() else { continue };
                    let end = u32::from(a) + u32::from(r.size);
                    if let Some((start, cur_end, names)) = cur.as_mut() {
                        let gap_ok = u32::from(a) <= *cur_end + u32::from(self.read_through_gap);
                        let new_end = end.max(*cur_end);
                        if gap_ok && new_end - u32::from(*start) <= u32::from(max) {
                            *cur_end = new_end;
                            names.push(r.name.clone());
                            continue;
                        }
                        let (s, e, n) = cur.take().unwrap_or_default();
                        blocks.push(holding_block(s, e, n));
                    }
                    cur = Some((a, end, vec![r.name.clone()]));
                }
                if let Some((s, e, n)) = cur {
                    blocks.push(holding_block(s, e, n));
                }
                blocks
            }
        }
    }

    /// Decodes the registers of a Modbus block from the words it returned.
    pub fn decode_block(
        &self,
        block: &ReadBlock,
        words: &[u16],
    ) -> Vec<(String, Result<i64, DecodeError>)> {
        let ReadRequest::Holding { start, .. } = block.request else {
            return Vec::new();
        };
        block
            .registers
            .iter()
            .filter_map(|n| self.register(n))
            .map(|r| {
                let off = usize::from(r.address().unwrap_or(start).saturating_sub(start));
                let slice = words.get(off..).unwrap_or(&[]);
                (r.name.clone(), r.decode_words(slice))
            })
            .collect()
    }
}

fn holding_block(start: u16, end: u32, registers: Vec<String>) -> ReadBlock {
    ReadBlock {
        request: ReadRequest::Holding {
            start,
            count: (end - u32::from(start)) as u16,
        },
        registers,
    }
}
