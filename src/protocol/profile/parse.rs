//! TOML shapes of a profile file and their validation into a [`Profile`]: every refusal
//! names the file, the line and the field.

use super::*;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    manufacturer: String,
    models: Vec<String>,
    protocol: ProfileProtocol,
    phases: u8,
    #[serde(default)]
    description: String,
    source: String,
    serial: SerialLine,
    #[serde(default)]
    reads: RawReads,
    #[serde(default)]
    registers: Vec<RawRegister>,
    #[serde(default)]
    commands: Vec<RawCommand>,
    /// `[rating]`: what the meter can pass (reading plausibility, `field::plausible`).
    rating: Option<RawRating>,
    /// `[timing]`: how fast the meter answers (the bus floor, `protocol::floor`).
    timing: Option<RawTiming>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiming {
    /// End of the request (after its t3.5 silence for Modbus) to the first reply byte, in ms.
    turnaround_ms: u32,
    /// Where that figure comes from (a document and clause, or `assumed: why`).
    turnaround_source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRating {
    /// Imax per phase, in A (the 60 of "10(60) A").
    max_current_a: u32,
    /// Nominal phase voltage, in V.
    voltage_v: u32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReads {
    read_through_gap: Option<u16>,
    max_registers_per_request: Option<u16>,
    #[serde(default)]
    live: Vec<Spanned<String>>,
    full: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    name: Spanned<String>,
    address: Option<u16>,
    di: Option<String>,
    #[serde(rename = "type")]
    kind: RegType,
    #[serde(default)]
    word_order: WordOrder,
    #[serde(default)]
    scale: i32,
    unit: Unit,
    #[serde(default)]
    access: Access,
    words: Option<u16>,
    bytes: Option<u16>,
    format: Option<String>,
    bit: Option<u8>,
    bits: Option<u8>,
    #[serde(default)]
    signed: bool,
    #[serde(default)]
    truncate: bool,
    source: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    name: Spanned<CommandKind>,
    write: Option<RawWrite>,
    write_registers: Option<Vec<String>>,
    dlt645_control: Option<u8>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrite {
    address: u16,
    values: Vec<u16>,
}

pub(super) fn parse(text: &str, origin: &str) -> Result<Profile, ProfileError> {
    let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError {
        origin: origin.to_string(),
        line: e.span().map(|s| crate::toml_pos::line_col(text, s.start).0),
        what: e.message().to_string(),
    })?;
    let err = |span: Option<std::ops::Range<usize>>, what: String| ProfileError {
        origin: origin.to_string(),
        line: span.map(|s| crate::toml_pos::line_col(text, s.start).0),
        what,
    };
    if raw.name.trim().is_empty() {
        return Err(err(None, "field 'name' is empty".into()));
    }
    if !matches!(raw.phases, 1 | 3) {
        return Err(err(
            None,
            format!("field 'phases' is {}, must be 1 or 3", raw.phases),
        ));
    }
    let mut registers: Vec<Register> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in raw.registers {
        let span = Some(r.name.span());
        let name = r.name.into_inner();
        let e = |what: String| err(span.clone(), format!("register '{name}': {what}"));
        if !seen.insert(name.clone()) {
            return Err(e("defined twice".into()));
        }
        if r.source.trim().is_empty() {
            return Err(e(
                "field 'source' is empty (cite the manual and page, or write 'assumed: why')"
                    .into(),
            ));
        }
        let location = match (raw.protocol, r.address, &r.di) {
            (ProfileProtocol::Modbus, Some(a), None) => Location::Holding(a),
            (ProfileProtocol::Dlt645, None, Some(di)) => {
                let di_ok = di.len() == 8 && di.bytes().all(|b| b.is_ascii_hexdigit());
                let v = u32::from_str_radix(di, 16)
                    .ok()
                    .filter(|_| di_ok)
                    .ok_or_else(|| e(format!("field 'di' = '{di}' is not 8 hex digits")))?;
                Location::Dlt645(v)
            }
            (ProfileProtocol::Modbus, _, _) => {
                return Err(e("a modbus register needs 'address' (and no 'di')".into()));
            }
            (ProfileProtocol::Dlt645, _, _) => {
                return Err(e("a dlt645 register needs 'di' (and no 'address')".into()));
            }
        };
        let mut scale = r.scale;
        let size: u16 = match (raw.protocol, r.kind) {
            (ProfileProtocol::Modbus, RegType::U16 | RegType::I16) => 1,
            (ProfileProtocol::Modbus, RegType::U32 | RegType::I32) => 2,
            (ProfileProtocol::Modbus, RegType::Bytes) => r
                .words
                .filter(|w| *w > 0)
                .ok_or_else(|| e("type 'bytes' needs 'words' > 0".into()))?,
            (ProfileProtocol::Modbus, k) => {
                return Err(e(format!("type {k:?} is not available on modbus")));
            }
            (ProfileProtocol::Dlt645, RegType::Bcd) => {
                let f = r
                    .format
                    .as_deref()
                    .ok_or_else(|| e("type 'bcd' needs 'format', e.g. XXXXXX.XX".into()))?;
                let (int, frac) = f.split_once('.').unwrap_or((f, ""));
                if !int.chars().chain(frac.chars()).all(|c| c == 'X')
                    || (int.len() + frac.len()) % 2 != 0
                    || int.len() + frac.len() == 0
                {
                    return Err(e(format!(
                        "field 'format' = '{f}' must be X digits with an even count"
                    )));
                }
                if r.scale != 0 {
                    return Err(e("give 'format' or 'scale', not both".into()));
                }
                scale = -(frac.len() as i32);
                ((int.len() + frac.len()) / 2) as u16
            }
            (ProfileProtocol::Dlt645, RegType::Bits | RegType::Bytes) => r
                .bytes
                .filter(|b| *b > 0)
                .ok_or_else(|| e("needs 'bytes' > 0".into()))?,
            (ProfileProtocol::Dlt645, k) => {
                return Err(e(format!(
                    "type {k:?} is not available on dlt645 (use bcd, bits or bytes)"
                )));
            }
        };
        let bit = match (r.bit, r.bits) {
            (Some(b), n) => {
                let n = n.unwrap_or(1);
                if n == 0 || u32::from(b) + u32::from(n) > u32::from(size) * 16 {
                    return Err(e(format!("bit {b} (+{n}) is outside the register")));
                }
                Some((b, n))
            }
            (None, Some(_)) => return Err(e("'bits' needs 'bit'".into())),
            (None, None) => None,
        };
        let (_, unit_exp) = r.unit.canonical();
        let exact_only = matches!(
            r.unit.canonical().0,
            Quantity::Energy | Quantity::Money | Quantity::Price | Quantity::Count
        );
        if scale + unit_exp < 0 && (exact_only || !r.truncate) {
            return Err(e(format!(
                "scale {scale} of {:?} is finer than the canonical unit ({}): it cannot be \
                 decoded exactly (only non-money values may say `truncate = true`)",
                r.unit,
                r.unit.canonical().0.unit_label()
            )));
        }
        if scale + unit_exp > 15 {
            return Err(e(format!("scale {scale} is too large")));
        }
        if (r.kind == RegType::Bytes) != (r.unit == Unit::Bytes) {
            return Err(e(
                "type 'bytes' goes with unit 'bytes' and only with it".into()
            ));
        }
        registers.push(Register {
            name,
            location,
            kind: r.kind,
            word_order: r.word_order,
            scale,
            unit: r.unit,
            access: r.access,
            size,
            bit,
            signed: r.signed,
            source: r.source,
            description: r.description,
        });
    }
    // Modbus registers must not overlap.
    if raw.protocol == ProfileProtocol::Modbus {
        let mut spans: Vec<(u32, u32, &str)> = registers
            .iter()
            .filter_map(|r| {
                r.address().map(|a| {
                    (
                        u32::from(a),
                        u32::from(a) + u32::from(r.size),
                        r.name.as_str(),
                    )
                })
            })
            .collect();
        spans.sort();
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(err(
                    None,
                    format!("registers '{}' and '{}' overlap", w[0].2, w[1].2),
                ));
            }
        }
    }
    let check_names = |list: &[Spanned<String>], what: &str| -> Result<Vec<String>, ProfileError> {
        list.iter()
            .map(|n| {
                let known = registers.iter().any(|r| r.name == *n.get_ref());
                if known {
                    Ok(n.get_ref().clone())
                } else {
                    Err(err(
                        Some(n.span()),
                        format!("reads.{what}: no register called '{}'", n.get_ref()),
                    ))
                }
            })
            .collect()
    };
    let live = check_names(&raw.reads.live, "live")?;
    let full = match &raw.reads.full {
        Some(list) => check_names(list, "full")?,
        None => registers
            .iter()
            .filter(|r| r.access != Access::W)
            .map(|r| r.name.clone())
            .collect(),
    };
    let mut commands = Vec::new();
    let mut seen_cmd = BTreeSet::new();
    for c in raw.commands {
        let span = Some(c.name.span());
        let kind = c.name.into_inner();
        let e = |what: String| err(span.clone(), format!("command '{}': {what}", kind.as_str()));
        if !seen_cmd.insert(kind) {
            return Err(e("defined twice".into()));
        }
        let action = match (c.write, c.write_registers, c.dlt645_control) {
            (Some(w), None, None) => {
                if raw.protocol != ProfileProtocol::Modbus {
                    return Err(e("'write' is for modbus profiles".into()));
                }
                if w.values.is_empty() || w.values.len() > 123 {
                    return Err(e("'write.values' must hold 1 to 123 words".into()));
                }
                CommandAction::WriteWords {
                    address: w.address,
                    values: w.values,
                }
            }
            (None, Some(list), None) => {
                for n in &list {
                    match registers.iter().find(|r| r.name == *n) {
                        None => return Err(e(format!("no register called '{n}'"))),
                        Some(r) if r.access == Access::R => {
                            return Err(e(format!("register '{n}' is read-only")));
                        }
                        Some(_) => {}
                    }
                }
                if list.is_empty() {
                    return Err(e("'write_registers' is empty".into()));
                }
                CommandAction::WriteRegisters { registers: list }
            }
            (None, None, Some(n1)) => {
                if raw.protocol != ProfileProtocol::Dlt645 {
                    return Err(e("'dlt645_control' is for dlt645 profiles".into()));
                }
                CommandAction::Dlt645Control { n1 }
            }
            _ => {
                return Err(e(
                    "give exactly one of 'write', 'write_registers', 'dlt645_control'".into(),
                ));
            }
        };
        commands.push(Command {
            kind,
            action,
            source: c.source,
        });
    }
    let default_max = match raw.protocol {
        ProfileProtocol::Modbus => MODBUS_MAX_READ_REGISTERS,
        ProfileProtocol::Dlt645 => 1,
    };
    let max_registers_per_request = raw.reads.max_registers_per_request.unwrap_or(default_max);
    if max_registers_per_request == 0 || max_registers_per_request > MODBUS_MAX_READ_REGISTERS {
        return Err(err(
            None,
            "reads.max_registers_per_request must be 1 to 125".into(),
        ));
    }
    if let Some(t) = &raw.timing
        && t.turnaround_source.trim().is_empty()
    {
        return Err(err(
            None,
            "timing.turnaround_source must say where turnaround_ms comes from (or \"assumed: why\")"
                .into(),
        ));
    }
    Ok(Profile {
        name: raw.name,
        manufacturer: raw.manufacturer,
        models: raw.models,
        protocol: raw.protocol,
        phases: raw.phases,
        description: raw.description,
        source: raw.source,
        serial: raw.serial,
        read_through_gap: raw.reads.read_through_gap.unwrap_or(4),
        max_registers_per_request,
        registers,
        live,
        full,
        commands,
        max_power_w: raw
            .rating
            .map(|r| i64::from(r.max_current_a) * i64::from(r.voltage_v) * i64::from(raw.phases)),
        turnaround: raw.timing.map_or(Duration::ZERO, |t| {
            Duration::from_millis(u64::from(t.turnaround_ms))
        }),
        origin: origin.to_string(),
    })
}
