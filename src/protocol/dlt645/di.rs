//! Data identifiers (DI3 DI2 DI1 DI0) of DL/T 645-2007 appendix A, as used by voltvend.
//!
//! A DI is written here most significant byte first ("00010100") and sent lowest byte first
//! (DI0 first), each byte +0x33 like all DATA. The prepaid identifiers (0090xxxx, 0333xxxx,
//! 040010xx) are from appendix A.1/A.5 as implemented by prepaid meters; see
//! docs/reference/meter-protocols.md for the sources.

use super::value::BcdFormat;

/// A data identifier, e.g. `Di(0x0001_0000)` = forward active energy, total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Di(pub u32);

impl Di {
    /// The four bytes in wire order (DI0 first), before the +0x33.
    pub fn to_wire(self) -> [u8; 4] {
        self.0.to_le_bytes()
    }

    /// From the first four plain DATA bytes (DI0 first).
    pub fn from_wire(bytes: &[u8]) -> Option<Di> {
        let b: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
        Some(Di(u32::from_le_bytes(b)))
    }

    /// Name and value format of the identifiers voltvend knows.
    pub fn info(self) -> Option<&'static DiInfo> {
        TABLE.iter().find(|i| i.di == self)
    }
}

impl std::fmt::Display for Di {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08X}", self.0)
    }
}

/// Combined active energy, total (组合有功总电能), XXXXXX.XX kWh.
pub const COMBINED_ACTIVE_TOTAL: Di = Di(0x0000_0000);
/// Forward active energy, total (正向有功总电能), XXXXXX.XX kWh.
pub const FORWARD_ACTIVE_TOTAL: Di = Di(0x0001_0000);
/// Forward active energy, rate 1 (费率1, sharp/尖).
pub const FORWARD_ACTIVE_RATE1: Di = Di(0x0001_0100);
/// Forward active energy, rate 2 (费率2, peak/峰).
pub const FORWARD_ACTIVE_RATE2: Di = Di(0x0001_0200);
/// Forward active energy, rate 3 (费率3, flat/平).
pub const FORWARD_ACTIVE_RATE3: Di = Di(0x0001_0300);
/// Forward active energy, rate 4 (费率4, valley/谷).
pub const FORWARD_ACTIVE_RATE4: Di = Di(0x0001_0400);
/// Forward active energy block: total then rates 1..n (数据块), 4 bytes each.
pub const FORWARD_ACTIVE_BLOCK: Di = Di(0x0001_FF00);
/// Phase voltages A, B, C (XXX.X V).
pub const VOLTAGE_A: Di = Di(0x0201_0100);
pub const VOLTAGE_B: Di = Di(0x0201_0200);
pub const VOLTAGE_C: Di = Di(0x0201_0300);
/// Voltage block: A, B, C, 2 bytes each.
pub const VOLTAGE_BLOCK: Di = Di(0x0201_FF00);
/// Phase currents A, B, C (XXX.XXX A, sign in the top bit).
pub const CURRENT_A: Di = Di(0x0202_0100);
pub const CURRENT_B: Di = Di(0x0202_0200);
pub const CURRENT_C: Di = Di(0x0202_0300);
/// Current block: A, B, C, 3 bytes each.
pub const CURRENT_BLOCK: Di = Di(0x0202_FF00);
/// Instantaneous active power, total and per phase (XX.XXXX kW, sign in the top bit).
pub const ACTIVE_POWER_TOTAL: Di = Di(0x0203_0000);
pub const ACTIVE_POWER_A: Di = Di(0x0203_0100);
pub const ACTIVE_POWER_B: Di = Di(0x0203_0200);
pub const ACTIVE_POWER_C: Di = Di(0x0203_0300);
/// Active power block: total, A, B, C, 3 bytes each.
pub const ACTIVE_POWER_BLOCK: Di = Di(0x0203_FF00);
/// Power factor, total (X.XXX, sign in the top bit).
pub const POWER_FACTOR_TOTAL: Di = Di(0x0206_0000);
/// Grid frequency (XX.XX Hz).
pub const FREQUENCY: Di = Di(0x0280_0002);
/// Remaining energy (剩余电量), energy-prepaid meters, XXXXXX.XX kWh.
pub const REMAINING_ENERGY: Di = Di(0x0090_0100);
/// Remaining amount (剩余金额), money-prepaid meters, XXXXXX.XX yuan.
pub const REMAINING_AMOUNT: Di = Di(0x0090_0200);
/// Overdraft amount (透支金额), XXXXXX.XX yuan.
pub const OVERDRAFT_AMOUNT: Di = Di(0x0090_0201);
/// Total purchase count after the last purchase (上1次购电后总购电次数), NNNN.
pub const PURCHASE_COUNT: Di = Di(0x0333_0201);
/// Alarm amount 1 and 2 (报警金额1/2), XXXXXX.XX yuan.
pub const ALARM_AMOUNT_1: Di = Di(0x0400_1001);
pub const ALARM_AMOUNT_2: Di = Di(0x0400_1002);
/// Status word 3 (电表运行状态字3): relay, keep-power and prepaid type bits; 2 bytes.
pub const STATUS_WORD_3: Di = Di(0x0400_0503);
/// Communication address (通信地址), 6 bytes, and meter number (表号), 6 bytes.
pub const COMM_ADDRESS: Di = Di(0x0400_0401);
pub const METER_NUMBER: Di = Di(0x0400_0402);
/// Date and week (YYMMDDWW) and time (hhmmss).
pub const DATE_WEEK: Di = Di(0x0400_0101);
pub const TIME: Di = Di(0x0400_0102);

/// What a known identifier holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiInfo {
    pub di: Di,
    pub name: &'static str,
    /// Value format of one item, and how many items the reply carries (blocks carry more).
    pub format: BcdFormat,
    pub items: usize,
}

macro_rules! row {
    ($di:expr, $name:expr, $fmt:expr, $n:expr) => {
        DiInfo {
            di: $di,
            name: $name,
            format: $fmt,
            items: $n,
        }
    };
}

/// Every identifier above with its name and format. Status words and addresses are raw
/// (see [`BcdFormat::RAW2`] / [`BcdFormat::RAW6`]).
pub static TABLE: &[DiInfo] = &[
    row!(
        COMBINED_ACTIVE_TOTAL,
        "combined active energy total",
        BcdFormat::ENERGY,
        1
    ),
    row!(
        FORWARD_ACTIVE_TOTAL,
        "forward active energy total",
        BcdFormat::ENERGY,
        1
    ),
    row!(
        FORWARD_ACTIVE_RATE1,
        "forward active energy rate 1 (sharp)",
        BcdFormat::ENERGY,
        1
    ),
    row!(
        FORWARD_ACTIVE_RATE2,
        "forward active energy rate 2 (peak)",
        BcdFormat::ENERGY,
        1
    ),
    row!(
        FORWARD_ACTIVE_RATE3,
        "forward active energy rate 3 (flat)",
        BcdFormat::ENERGY,
        1
    ),
    row!(
        FORWARD_ACTIVE_RATE4,
        "forward active energy rate 4 (valley)",
        BcdFormat::ENERGY,
        1
    ),
    row!(
        FORWARD_ACTIVE_BLOCK,
        "forward active energy total and rates 1-4",
        BcdFormat::ENERGY,
        5
    ),
    row!(VOLTAGE_A, "phase A voltage", BcdFormat::VOLTAGE, 1),
    row!(VOLTAGE_B, "phase B voltage", BcdFormat::VOLTAGE, 1),
    row!(VOLTAGE_C, "phase C voltage", BcdFormat::VOLTAGE, 1),
    row!(
        VOLTAGE_BLOCK,
        "phase voltages A, B, C",
        BcdFormat::VOLTAGE,
        3
    ),
    row!(CURRENT_A, "phase A current", BcdFormat::CURRENT, 1),
    row!(CURRENT_B, "phase B current", BcdFormat::CURRENT, 1),
    row!(CURRENT_C, "phase C current", BcdFormat::CURRENT, 1),
    row!(
        CURRENT_BLOCK,
        "phase currents A, B, C",
        BcdFormat::CURRENT,
        3
    ),
    row!(
        ACTIVE_POWER_TOTAL,
        "active power total",
        BcdFormat::POWER,
        1
    ),
    row!(ACTIVE_POWER_A, "phase A active power", BcdFormat::POWER, 1),
    row!(ACTIVE_POWER_B, "phase B active power", BcdFormat::POWER, 1),
    row!(ACTIVE_POWER_C, "phase C active power", BcdFormat::POWER, 1),
    row!(
        ACTIVE_POWER_BLOCK,
        "active power total, A, B, C",
        BcdFormat::POWER,
        4
    ),
    row!(
        POWER_FACTOR_TOTAL,
        "power factor total",
        BcdFormat::POWER_FACTOR,
        1
    ),
    row!(FREQUENCY, "grid frequency", BcdFormat::FREQUENCY, 1),
    row!(REMAINING_ENERGY, "remaining energy", BcdFormat::ENERGY, 1),
    row!(REMAINING_AMOUNT, "remaining amount", BcdFormat::MONEY, 1),
    row!(OVERDRAFT_AMOUNT, "overdraft amount", BcdFormat::MONEY, 1),
    row!(PURCHASE_COUNT, "purchase count", BcdFormat::COUNT, 1),
    row!(ALARM_AMOUNT_1, "alarm amount 1", BcdFormat::MONEY, 1),
    row!(ALARM_AMOUNT_2, "alarm amount 2", BcdFormat::MONEY, 1),
    row!(STATUS_WORD_3, "status word 3", BcdFormat::RAW2, 1),
    row!(COMM_ADDRESS, "communication address", BcdFormat::RAW6, 1),
    row!(METER_NUMBER, "meter number", BcdFormat::RAW6, 1),
    row!(DATE_WEEK, "date and week YYMMDDWW", BcdFormat::RAW4, 1),
    row!(TIME, "time hhmmss", BcdFormat::RAW3, 1),
];

impl DiInfo {
    /// Bytes of value data following the DI in a read reply.
    pub fn value_len(&self) -> usize {
        usize::from(self.format.bytes) * self.items
    }
}
