//! DL/T 645-2007 codec: every frame of docs/reference/test-vectors.md §6 byte-exact,
//! round trips, and error values (never panics) for garbage, truncation, bad checksums and
//! wrong addresses.

use proptest::prelude::*;
use voltvend::protocol::dlt645::*;
use voltvend::units::{Fen, Wh};

use crate::support::bytes::hex;

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

#[test]
fn section_6_1_read_combined_total() {
    let f = read(addr("000000001234"), di::COMBINED_ACTIVE_TOTAL);
    assert_eq!(
        encode_with_preamble(&f).unwrap(),
        hex("FE FE FE FE 68 34 12 00 00 00 00 68 11 04 33 33 33 33 F7 16")
    );
    let plain = hex("68 34 12 00 00 00 00 68 11 04 33 33 33 33 F7 16");
    assert_eq!(encode(&f).unwrap(), plain);
    assert_eq!(decode(&plain).unwrap(), (f, 16));
}

#[test]
fn section_6_2_normal_reply_1234_56_kwh() {
    let wire = hex("FE FE FE FE 68 34 12 00 00 00 00 68 91 08 33 33 33 33 89 67 45 33 E3 16");
    let (f, used) = decode(&wire).unwrap();
    assert_eq!(used, wire.len());
    let a = addr("000000001234");
    let r = parse_read_reply(&f, &a, di::COMBINED_ACTIVE_TOTAL).unwrap();
    assert_eq!(r.value, vec![0x56, 0x34, 0x12, 0x00]);
    assert!(!r.follow_on);
    assert_eq!(value::energy_wh(&r.value).unwrap(), Wh(1_234_560));
    // The simulator's reply builder produces the same bytes.
    let built = read_reply(
        a,
        di::COMBINED_ACTIVE_TOTAL,
        &value::encode_energy(Wh(1_234_560)).unwrap(),
        false,
    );
    assert_eq!(encode(&built).unwrap(), wire[4..]);
}

#[test]
fn section_6_3_relay_trip() {
    let until = MeterTime::new(2026, 12, 31, 23, 59, 59).unwrap();
    let f = relay_control(
        addr("000000001234"),
        Password::DEFAULT_LEVEL2,
        OperatorCode::default(),
        RelayCommand::Trip,
        until,
    )
    .unwrap();
    assert_eq!(
        encode_with_preamble(&f).unwrap(),
        hex(
            "FE FE FE FE 68 34 12 00 00 00 00 68 1C 10 35 33 33 33 33 33 33 33 4D 33 8C 8C 56 64 45 59 CC 16"
        )
    );
    match parse_request(&f).unwrap() {
        MeterRequest::RelayControl {
            command,
            valid_until,
            password,
            ..
        } => {
            assert_eq!(RelayCommand::from_n1(command), Some(RelayCommand::Trip));
            assert_eq!(valid_until, until);
            assert_eq!(password, Password::DEFAULT_LEVEL2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn section_6_published_frames() {
    // fdxxw/rs-dlt645 frame.rs: read DI 028022FF at 202208310002.
    let f = read(addr("202208310002"), Di(0x0280_22FF));
    assert_eq!(
        encode_with_preamble(&f).unwrap(),
        hex("fefefefe680200310822206811043255b335d116")
    );
    // Message-analysis log: read 00010000 at 000000000161 and its reply 000000.26 kWh.
    let a = addr("000000000161");
    let f = read(a, di::FORWARD_ACTIVE_TOTAL);
    assert_eq!(
        encode_with_preamble(&f).unwrap(),
        hex("FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16")
    );
    let reply = hex("68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 16");
    let (rf, _) = decode(&reply).unwrap();
    let r = parse_read_reply(&rf, &a, di::FORWARD_ACTIVE_TOTAL).unwrap();
    assert_eq!(value::energy_wh(&r.value).unwrap(), Wh(260));
    // C++ CDL645::SendYk comment: trip at 201905241006, valid-until all zero.
    let f = relay_control(
        addr("201905241006"),
        Password::DEFAULT_LEVEL2,
        OperatorCode::default(),
        RelayCommand::Trip,
        MeterTime::NONE,
    )
    .unwrap();
    assert_eq!(
        encode(&f).unwrap(),
        hex("68 06 10 24 05 19 20 68 1C 10 35 33 33 33 33 33 33 33 4D 33 33 33 33 33 33 33 C0 16")
    );
}

#[test]
fn preamble_and_garbage_tolerated() {
    let plain = hex("68 34 12 00 00 00 00 68 11 04 33 33 33 33 F7 16");
    for n in 0..=4 {
        let mut wire = vec![0xFE; n];
        wire.extend_from_slice(&plain);
        let (f, used) = decode(&wire).unwrap();
        assert_eq!(used, wire.len());
        assert_eq!(f.data, vec![0, 0, 0, 0]);
    }
    // Noise, including a stray 0x68, before the frame.
    let mut wire = hex("00 68 FF 13 FE FE");
    wire.extend_from_slice(&plain);
    let (f, used) = decode(&wire).unwrap();
    assert_eq!(used, wire.len());
    assert_eq!(f.address, addr("000000001234"));
}

#[test]
fn incomplete_is_told_apart_from_errors() {
    let wire = hex("FE FE FE FE 68 34 12 00 00 00 00 68 91 08 33 33 33 33 89 67 45 33 E3 16");
    for cut in 0..wire.len() {
        let e = decode(&wire[..cut]).unwrap_err();
        assert!(
            e.is_incomplete() || matches!(e, Dlt645Error::NoStart(_)),
            "cut {cut}: {e}"
        );
    }
    // The stream decoder yields the frame once every byte has arrived, in any split.
    for split in 0..wire.len() {
        let mut d = StreamDecoder::new();
        d.push(&wire[..split]);
        assert_eq!(d.next_frame().unwrap(), None);
        d.push(&wire[split..]);
        assert!(d.next_frame().unwrap().is_some());
        assert_eq!(d.buffered(), 0);
    }
}

#[test]
fn stream_decoder_recovers_after_a_bad_frame() {
    let good = hex("68 34 12 00 00 00 00 68 11 04 33 33 33 33 F7 16");
    let mut bad = good.clone();
    bad[14] = 0xF8; // wrong CS
    let mut d = StreamDecoder::new();
    d.push(&bad);
    d.push(&good);
    assert!(matches!(
        d.next_frame(),
        Err(Dlt645Error::BadChecksum {
            expected: 0xF7,
            found: 0xF8
        })
    ));
    let mut got = None;
    for _ in 0..20 {
        match d.next_frame() {
            Ok(Some(f)) => {
                got = Some(f);
                break;
            }
            Ok(None) => break,
            Err(_) => continue,
        }
    }
    assert_eq!(
        got,
        Some(read(addr("000000001234"), di::COMBINED_ACTIVE_TOTAL))
    );
}

#[test]
fn bad_frames_give_error_values() {
    let good = hex("68 34 12 00 00 00 00 68 91 08 33 33 33 33 89 67 45 33 E3 16");
    let mut cs = good.clone();
    cs[18] ^= 0x01;
    assert!(matches!(decode(&cs), Err(Dlt645Error::BadChecksum { .. })));
    let mut end = good.clone();
    end[19] = 0x17;
    assert_eq!(decode(&end), Err(Dlt645Error::MissingEnd(0x17)));
    assert!(matches!(
        decode(&[0x00, 0x11, 0x22]),
        Err(Dlt645Error::NoStart(3))
    ));
    // Wrong address: decodes, but the reply parser refuses it.
    let (f, _) = decode(&good).unwrap();
    assert!(matches!(
        parse_read_reply(&f, &addr("000000001235"), di::COMBINED_ACTIVE_TOTAL),
        Err(Dlt645Error::WrongAddress { .. })
    ));
    // Wrong DI.
    assert!(matches!(
        parse_read_reply(&f, &addr("000000001234"), di::FORWARD_ACTIVE_TOTAL),
        Err(Dlt645Error::WrongDi { .. })
    ));
    // Non-BCD address byte with a valid checksum.
    let mut body = hex("68 3A 12 00 00 00 00 68 11 00");
    body.push(checksum(&body));
    body.push(0x16);
    assert_eq!(decode(&body), Err(Dlt645Error::BadAddress(0x3A)));
    // Data longer than the standard allows cannot be encoded.
    let long = Frame {
        address: addr("000000001234"),
        control: Control::request(function::WRITE),
        data: vec![0; 201],
    };
    assert_eq!(encode(&long), Err(Dlt645Error::DataTooLong(201)));
}

#[test]
fn abnormal_reply_decoded_to_named_errors() {
    let a = addr("000000001234");
    let f = abnormal_reply(a, function::RELAY_CONTROL, ErrorFlags(0x04));
    let wire = encode(&f).unwrap();
    assert_eq!(wire[8], 0xDC); // C | 0xC0
    let (back, _) = decode(&wire).unwrap();
    let err = check_reply(&back, &a, function::RELAY_CONTROL).unwrap_err();
    assert_eq!(
        err.to_string(),
        "meter refused function 0x1C: error byte 0x04 (wrong password or not authorised)"
    );
    let r = abnormal_reply(a, function::READ, ErrorFlags(0x02));
    match parse_read_reply(&r, &a, di::REMAINING_AMOUNT) {
        Err(Dlt645Error::Abnormal { errors, .. }) => {
            assert_eq!(errors.errors(), vec![MeterError::NoData])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn follow_on_frames() {
    let a = addr("000000001234");
    let first = read_reply(a, di::FORWARD_ACTIVE_BLOCK, &[0x11; 12], true);
    assert_eq!(first.control.0, 0xB1);
    let r = parse_read_reply(&first, &a, di::FORWARD_ACTIVE_BLOCK).unwrap();
    assert!(r.follow_on);
    let req = read_follow_on(a, di::FORWARD_ACTIVE_BLOCK, 1);
    assert_eq!(req.control.0, 0x12);
    assert_eq!(
        parse_request(&req).unwrap(),
        MeterRequest::ReadFollowOn {
            di: di::FORWARD_ACTIVE_BLOCK,
            seq: 1
        }
    );
    let next = read_follow_on_reply(a, di::FORWARD_ACTIVE_BLOCK, &[0x22; 8], 1, false);
    assert_eq!(next.control.0, 0x92);
    let r = parse_read_reply(&next, &a, di::FORWARD_ACTIVE_BLOCK).unwrap();
    assert_eq!((r.seq, r.follow_on, r.value.len()), (Some(1), false, 8));
}

#[test]
fn read_address_broadcast_time_and_write() {
    let req = read_address();
    let wire = encode_with_preamble(&req).unwrap();
    // 68 AA×6 68 13 00 CS 16
    assert_eq!(&wire[4..14], &hex("68 AA AA AA AA AA AA 68 13 00"));
    let a = addr("123456789012");
    let reply = read_address_reply(a);
    assert_eq!(parse_read_address_reply(&reply).unwrap(), a);

    let t = MeterTime::new(2026, 11, 24, 23, 50, 7).unwrap();
    let b = broadcast_time(t).unwrap();
    assert_eq!(b.address, Address::BROADCAST);
    assert_eq!(b.data, hex("07 50 23 24 11 26"));
    assert_eq!(parse_request(&b).unwrap(), MeterRequest::BroadcastTime(t));
    assert!(MeterTime::new(2026, 13, 1, 0, 0, 0).is_err());

    let value = value::encode_money(Fen(2000)).unwrap();
    let w = write(
        a,
        di::ALARM_AMOUNT_1,
        Password::DEFAULT_LEVEL2,
        OperatorCode([1, 2, 3, 4]),
        &value,
    );
    match parse_request(&w).unwrap() {
        MeterRequest::Write {
            di,
            operator,
            value: v,
            ..
        } => {
            assert_eq!(di, di::ALARM_AMOUNT_1);
            assert_eq!(operator, OperatorCode([1, 2, 3, 4]));
            assert_eq!(value::money_fen(&v).unwrap(), Fen(2000));
        }
        other => panic!("{other:?}"),
    }
    let ok = ok_reply(a, function::WRITE);
    assert_eq!(ok.control.0, 0x94);
    check_reply(&ok, &a, function::WRITE).unwrap();
}

#[test]
fn status_word_3_confirms_relay() {
    let a = addr("000000001234");
    let s = StatusWord3::build(true, true, false, PrepaidType::Money);
    let reply = read_reply(a, di::STATUS_WORD_3, &s.to_bytes(), false);
    let (f, _) = decode(&encode(&reply).unwrap()).unwrap();
    let r = parse_read_reply(&f, &a, di::STATUS_WORD_3).unwrap();
    let back = StatusWord3::from_bytes(&r.value).unwrap();
    assert!(back.relay_open() && back.relay_command_open() && !back.keep_power());
    assert_eq!(back.prepaid_type(), PrepaidType::Money);
}

#[test]
fn di_table_is_consistent() {
    assert_eq!(di::VOLTAGE_BLOCK.info().unwrap().value_len(), 6);
    assert_eq!(di::CURRENT_BLOCK.info().unwrap().value_len(), 9);
    assert_eq!(di::ACTIVE_POWER_BLOCK.info().unwrap().value_len(), 12);
    assert_eq!(di::COMBINED_ACTIVE_TOTAL.to_wire(), [0, 0, 0, 0]);
    assert_eq!(di::FORWARD_ACTIVE_RATE4.to_wire(), [0x00, 0x04, 0x01, 0x00]);
    assert_eq!(di::STATUS_WORD_3.to_string(), "04000503");
    let mut seen = std::collections::HashSet::new();
    for i in di::TABLE {
        assert!(seen.insert(i.di), "duplicate {}", i.di);
    }
}

fn arb_address() -> impl Strategy<Value = Address> {
    (0u64..1_000_000_000_000).prop_map(|n| Address::from_u64(n).unwrap())
}

proptest! {
    #![proptest_config(crate::support::prop::config())]

    #[test]
    fn frame_round_trip(
        address in arb_address(),
        c in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..=200),
        pre in 0usize..=4,
    ) {
        let f = Frame { address, control: Control(c), data };
        let mut wire = vec![0xFE; pre];
        wire.extend(encode(&f).unwrap());
        let (back, used) = decode(&wire).unwrap();
        prop_assert_eq!(used, wire.len());
        prop_assert_eq!(back, f);
    }

    #[test]
    fn address_text_round_trip(address in arb_address()) {
        prop_assert_eq!(Address::parse(&address.to_string()).unwrap(), address);
    }

    #[test]
    fn bcd_values_round_trip(v in 0i64..100_000_000, s in -799_999i64..=799_999) {
        prop_assert_eq!(BcdFormat::ENERGY.decode(&BcdFormat::ENERGY.encode(v).unwrap()).unwrap(), v);
        prop_assert_eq!(BcdFormat::CURRENT.decode(&BcdFormat::CURRENT.encode(s).unwrap()).unwrap(), s);
        prop_assert_eq!(value::money_fen(&value::encode_money(Fen(v)).unwrap()).unwrap(), Fen(v));
    }

    #[test]
    fn flipped_bit_never_yields_the_same_frame(
        address in arb_address(),
        data in proptest::collection::vec(any::<u8>(), 0..40),
        pos in any::<usize>(),
        bit in 0u8..8,
    ) {
        let f = Frame { address, control: Control(0x91), data };
        let mut wire = encode(&f).unwrap();
        let i = pos % wire.len();
        wire[i] ^= 1 << bit;
        prop_assert_ne!(decode(&wire).ok().map(|(f, _)| f), Some(f));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok((f, _)) = decode(&bytes) {
            let _ = parse_request(&f);
            let _ = parse_read_reply(&f, &f.address, di::REMAINING_AMOUNT);
        }
        let mut d = StreamDecoder::new();
        d.push(&bytes);
        for _ in 0..400 {
            if let Ok(None) = d.next_frame() { break; }
        }
    }
}
