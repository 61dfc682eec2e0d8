use super::*;

fn ddsy() -> Profile {
    builtin_named(DEFAULT_MODBUS_1P).expect("built-in 1-phase profile")
}

#[test]
fn every_builtin_profile_loads() {
    for (origin, text) in BUILTIN {
        let p = Profile::from_toml_str(text, origin).expect(origin);
        assert!(!p.registers.is_empty(), "{origin}");
        for kind in CommandKind::ALL {
            assert!(
                p.command(kind).is_some(),
                "{origin} lacks {}",
                kind.as_str()
            );
        }
    }
    assert_eq!(builtin().len(), BUILTIN.len());
}

#[test]
fn every_builtin_has_the_shared_value_names() {
    for p in builtin() {
        let mut need = vec![
            names::ENERGY_TOTAL,
            names::POWER,
            names::BALANCE,
            names::PURCHASE_COUNT,
            names::RELAY_OPEN,
            names::KEEP_POWER,
            names::PREPAID_MODE,
            names::ALARM1,
            names::ALARM2,
            names::OVERLOAD_LIMIT,
            names::CREDIT_TOKEN,
        ];
        need.extend(names::ENERGY_BANDS);
        need.extend(names::PRICES);
        if p.phases == 1 {
            need.extend([names::VOLTAGE, names::CURRENT]);
        } else {
            need.extend([names::VOLTAGE_A, names::VOLTAGE_B, names::VOLTAGE_C]);
            need.extend([names::CURRENT_A, names::CURRENT_B, names::CURRENT_C]);
        }
        for n in need {
            assert!(p.register(n).is_some(), "{} lacks {n}", p.name);
        }
    }
}

/// Known registers follow the Acrel manual T1.0 §8.1 / ems4j map
/// (docs/reference/meter-protocols.md), not our own output.
#[test]
fn ddsy_known_addresses_follow_the_manual() {
    let p = ddsy();
    let at = |n: &str| p.register(n).and_then(Register::address);
    assert_eq!(at(names::ENERGY_TOTAL), Some(0x0000));
    assert_eq!(at(names::ENERGY_SHARP), Some(0x0002));
    assert_eq!(at(names::ENERGY_PEAK), Some(0x0004));
    assert_eq!(at(names::ENERGY_FLAT), Some(0x0006));
    assert_eq!(at(names::ENERGY_VALLEY), Some(0x0008));
    assert_eq!(at(names::VOLTAGE), Some(0x000B));
    assert_eq!(at(names::CURRENT), Some(0x000C));
    assert_eq!(at(names::POWER), Some(0x000D));
    assert_eq!(at(names::POWER_FACTOR), Some(0x0010));
    let trip = p.command(CommandKind::RelayTrip).expect("trip");
    assert_eq!(
        trip.action,
        CommandAction::WriteWords {
            address: 0x0057,
            values: vec![1, 1]
        }
    );
    let close = p.command(CommandKind::RelayClose).expect("close");
    assert_eq!(
        close.action,
        CommandAction::WriteWords {
            address: 0x0057,
            values: vec![1, 0]
        }
    );
    assert!(p.register(names::BALANCE).is_some_and(Register::is_assumed));
    assert!(
        !p.register(names::ENERGY_TOTAL)
            .is_some_and(Register::is_assumed)
    );
}

#[test]
fn decodes_words_to_exact_canonical_integers() {
    let p = ddsy();
    let e = p.register(names::ENERGY_TOTAL).expect("energy");
    // 0x0001_E240 = 123456 × 0.01 kWh = 1234.56 kWh = 1_234_560 Wh.
    assert_eq!(e.decode_words(&[0x0001, 0xE240]), Ok(1_234_560));
    let v = p.register(names::VOLTAGE).expect("voltage");
    assert_eq!(v.decode_words(&[2201]), Ok(2201)); // 220.1 V in 0.1 V
    let i = p.register(names::CURRENT).expect("current");
    assert_eq!(i.decode_words(&[523]), Ok(5230)); // 5.23 A = 5230 mA
    let pw = p.register(names::POWER).expect("power");
    assert_eq!(pw.decode_words(&[0xFFFE]), Ok(-2)); // -0.002 kW = -2 W
    let b = p.register(names::BALANCE).expect("balance");
    assert_eq!(b.decode_words(&[0xFFFF, 0xFF9C]), Ok(-100)); // -1.00 yuan
    for (canon, reg) in [(1_234_560, e), (-100, b), (-2, pw)] {
        assert_eq!(
            reg.decode_words(&reg.encode_words(canon).expect("enc")),
            Ok(canon)
        );
    }
    assert!(matches!(
        e.decode_words(&[1]),
        Err(DecodeError::Short {
            need: 2,
            got: 1,
            ..
        })
    ));
}

#[test]
fn word_order_low_first() {
    let text = include_str!("../profiles/acrel-ddsy1352-nk.toml").replacen(
        "word_order = \"high_first\"",
        "word_order = \"low_first\"",
        1,
    );
    let p = Profile::from_toml_str(&text, "t").expect("profile");
    let e = p.register(names::ENERGY_TOTAL).expect("energy");
    assert_eq!(e.decode_words(&[0xE240, 0x0001]), Ok(1_234_560));
}

#[test]
fn dlt645_bcd_decodes_known_values() {
    let p = builtin_named(DEFAULT_DLT645).expect("dlt645 profile");
    let e = p.register(names::ENERGY_TOTAL).expect("energy");
    // XXXXXX.XX kWh, lowest byte first: 12 34 56 00 = 005634.12 kWh.
    assert_eq!(e.decode_dlt645(&[0x12, 0x34, 0x56, 0x00]), Ok(5_634_120));
    assert!(matches!(
        e.decode_dlt645(&[0x1A, 0, 0, 0]),
        Err(DecodeError::NotBcd { .. })
    ));
    let pw = p.register(names::POWER).expect("power");
    // XX.XXXX kW signed: 00 50 81 = -1.5000 kW (sign bit in the top byte).
    assert_eq!(pw.decode_dlt645(&[0x00, 0x50, 0x81]), Ok(-1500));
    assert_eq!(pw.encode_dlt645(-1500), Ok(vec![0x00, 0x50, 0x81]));
    let relay = p.register(names::RELAY_OPEN).expect("relay");
    // Status word 3 bit 4 = relay open (DL/T 645-2007 Appendix, 电表运行状态字3).
    assert_eq!(relay.decode_dlt645(&[0x10, 0x00]), Ok(1));
    assert_eq!(relay.decode_dlt645(&[0xEF, 0xFF]), Ok(0));
}

#[test]
fn plan_merges_adjacent_registers_and_reads_through_small_gaps() {
    let p = ddsy();
    let full = p.plan_reads(Group::Full, 125);
    // Every readable register is covered exactly once.
    let covered: Vec<&String> = full.iter().flat_map(|b| &b.registers).collect();
    let readable = p.registers.iter().filter(|r| r.access != Access::W).count();
    assert_eq!(covered.len(), readable);
    // The measurement block 0x0000..=0x0011 is one request.
    assert!(full.iter().any(
        |b| matches!(b.request, ReadRequest::Holding { start: 0, .. })
            && b.registers.iter().any(|n| n == names::POWER_FACTOR)
    ));
    // A small limit splits blocks but never splits a register.
    for b in p.plan_reads(Group::Full, 4) {
        let ReadRequest::Holding { start, count } = b.request else {
            panic!("modbus")
        };
        assert!(count <= 4);
        for n in &b.registers {
            let r = p.register(n).expect("reg");
            let a = r.address().expect("addr");
            assert!(
                a >= start && a + r.size <= start + count,
                "{n} outside block"
            );
        }
    }
}

#[test]
fn builtin_plans_are_small() {
    let count = |name: &str, g: Group| builtin_named(name).expect(name).plan_reads(g, 125).len();
    assert_eq!(count(DEFAULT_MODBUS_1P, Group::Live), 2);
    assert_eq!(count(DEFAULT_MODBUS_1P, Group::Full), 3);
    assert_eq!(count(DEFAULT_MODBUS_3P, Group::Live), 2);
    assert_eq!(count(DEFAULT_MODBUS_3P, Group::Full), 4);
    // DL/T 645: one per DI; the three status-word flags share 04000503.
    assert_eq!(count(DEFAULT_DLT645, Group::Live), 7); // relay_command shares 04000503 too
}

#[test]
fn plan_does_not_read_through_large_gaps() {
    let p = ddsy();
    let plan = p.plan_reads_for(&[names::ENERGY_TOTAL, names::BALANCE], 125);
    assert_eq!(plan.len(), 2, "0x0000 and 0x0100 are far apart: {plan:?}");
}

#[test]
fn refusals_name_the_line_and_field() {
    let base = include_str!("../profiles/acrel-ddsy1352-nk.toml");
    let bad = base.replacen("scale = -2", "scale = -4", 1);
    let e = Profile::from_toml_str(&bad, "x.toml").expect_err("too fine");
    assert!(e.line.is_some() && e.what.contains("energy_total"), "{e}");
    let bad = base.replacen("type = \"u32\"", "type = \"u64\"", 1);
    let e = Profile::from_toml_str(&bad, "x.toml").expect_err("bad type");
    assert!(e.to_string().starts_with("x.toml:"), "{e}");
    let bad = format!(
        "{base}\n[[registers]]\nname = \"dup\"\naddress = 0x0001\ntype = \"u16\"\nunit = \"code\"\nsource = \"assumed\"\n"
    );
    let e = Profile::from_toml_str(&bad, "x.toml").expect_err("overlap");
    assert!(e.what.contains("overlap"), "{e}");
    assert!(Profile::from_toml_str("garbage = [", "g.toml").is_err());
}

#[test]
fn timing_gives_the_turnaround_the_floor_counts() {
    let base = include_str!("../profiles/acrel-ddsy1352-nk.toml");
    let p = Profile::from_toml_str(base, "x.toml").expect("profile");
    assert_eq!(p.turnaround, std::time::Duration::from_millis(20));
    let dlt = include_str!("../profiles/dlt645-2007-prepaid.toml");
    let p = Profile::from_toml_str(dlt, "d.toml").expect("profile");
    assert_eq!(p.turnaround, std::time::Duration::from_millis(20));
    // No [timing]: the floor assumes no turnaround at all.
    let start = base.find("[timing]").expect("timing");
    let end = start + base[start..].find("\n\n").expect("end of the table");
    let none = format!("{}{}", &base[..start], &base[end..]);
    let p = Profile::from_toml_str(&none, "x.toml").expect("profile");
    assert_eq!(p.turnaround, std::time::Duration::ZERO);
    // A figure without a source is refused.
    let bad = base.replacen(
        "turnaround_source = \"assumed:",
        "turnaround_source = \" \" # ",
        1,
    );
    let e = Profile::from_toml_str(&bad, "x.toml").expect_err("no source");
    assert!(e.what.contains("turnaround_source"), "{e}");
}

proptest::proptest! {
    #[test]
    fn decode_never_panics(words in proptest::collection::vec(proptest::num::u16::ANY, 0..6),
                           bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..6)) {
        for p in builtin() {
            for r in &p.registers {
                let _ = r.decode_words(&words);
                let _ = r.decode_dlt645(&bytes);
            }
        }
    }

    #[test]
    fn modbus_encode_decode_round_trip(v in 0i64..100_000_000) {
        let p = ddsy();
        let r = p.register(names::ENERGY_TOTAL).expect("energy");
        let w = r.encode_words(v * 10).expect("fits");
        proptest::prop_assert_eq!(r.decode_words(&w), Ok(v * 10));
    }
}
