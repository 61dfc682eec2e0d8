//! Modbus RTU codec: known answers from docs/reference/test-vectors.md §5 (crcmod and
//! pymodbus), round trips, and error values (never panics) on bad input.

use proptest::prelude::*;
use std::time::Duration;
use voltvend::protocol::rtu::*;

use crate::support::bytes::hex;

#[test]
fn crc_known_answers_section_5() {
    // (body, CRC as it appears on the wire: low byte first)
    let cases = [
        ("01 03 00 00 00 0A", [0xC5, 0xCD]),
        ("05 03 00 00 00 11", [0x84, 0x42]),
        ("05 10 00 57 00 02 04 00 01 00 01", [0x32, 0x45]),
        ("05 10 00 57 00 02", [0xF1, 0x9C]),
        ("05 83 02", [0x81, 0x30]),
    ];
    for (body, wire) in cases {
        assert_eq!(crc16(&hex(body)).to_le_bytes(), wire, "body {body}");
    }
}

#[test]
fn request_frames_known_answers_section_5() {
    let r = Request::ReadHolding {
        slave: 1,
        addr: 0,
        count: 10,
    };
    assert_eq!(r.encode().unwrap(), hex("01 03 00 00 00 0A C5 CD"));
    let r = Request::ReadHolding {
        slave: 5,
        addr: 0,
        count: 17,
    };
    assert_eq!(r.encode().unwrap(), hex("05 03 00 00 00 11 84 42"));
    assert_eq!(Request::decode(&hex("05 03 00 00 00 11 84 42")).unwrap(), r);
    let w = Request::WriteMultiple {
        slave: 5,
        addr: 0x57,
        values: vec![1, 1],
    };
    let wire = hex("05 10 00 57 00 02 04 00 01 00 01 32 45");
    assert_eq!(w.encode().unwrap(), wire);
    assert_eq!(Request::decode(&wire).unwrap(), w);
    assert_eq!(w.encoded_len(), wire.len());
}

#[test]
fn response_frames_known_answers_section_5() {
    let wire = hex("05 10 00 57 00 02 F1 9C");
    let resp = Response::WriteMultiple {
        slave: 5,
        addr: 0x57,
        count: 2,
    };
    assert_eq!(resp.encode().unwrap(), wire);
    let req = Request::WriteMultiple {
        slave: 5,
        addr: 0x57,
        values: vec![1, 1],
    };
    assert_eq!(req.decode_response(&wire).unwrap(), resp);

    let exc = hex("05 83 02 81 30");
    let decoded = Response::decode(&exc).unwrap();
    assert_eq!(
        decoded,
        Response::Exception {
            slave: 5,
            function: 3,
            code: ExceptionCode::IllegalDataAddress
        }
    );
    assert_eq!(decoded.encode().unwrap(), exc);
    assert_eq!(
        ExceptionCode::IllegalDataAddress.to_string(),
        "exception 0x02 (illegal data address)"
    );
}

#[test]
fn thirty_nine_byte_response_section_5_1() {
    let values = vec![
        0x0001, 0xE240, 0x0000, 0x2710, 0x0000, 0x9C40, 0x0000, 0xC350, 0x0000, 0x5BA5, 0x0000,
        0x089B, 0x0200, 0x0468, 0x0000, 0x0479, 0x03D9,
    ];
    let wire =
        hex("0503220001E2400000271000009C400000C35000005BA50000089B020004680000047903D98E7C");
    assert_eq!(wire.len(), 39);
    let req = Request::ReadHolding {
        slave: 5,
        addr: 0,
        count: 17,
    };
    assert_eq!(req.expected_response_len(), 39);
    let resp = Response::ok_for(&req, values.clone());
    assert_eq!(resp.encode().unwrap(), wire);
    assert_eq!(
        req.decode_response(&wire).unwrap(),
        Response::ReadHolding { slave: 5, values }
    );
    // A stream reader learns the length from the first three bytes.
    assert_eq!(
        response_frame_len(&wire[..2]).unwrap(),
        FrameLen::NeedMore(3)
    );
    assert_eq!(
        response_frame_len(&wire[..3]).unwrap(),
        FrameLen::NeedMore(39)
    );
    assert_eq!(response_frame_len(&wire).unwrap(), FrameLen::Complete(39));
    assert_eq!(
        response_frame_len(&hex("05 83")).unwrap(),
        FrameLen::NeedMore(5)
    );
}

#[test]
fn bad_input_gives_error_values() {
    let wire =
        hex("0503220001E2400000271000009C400000C35000005BA50000089B020004680000047903D98E7C");
    let req = Request::ReadHolding {
        slave: 5,
        addr: 0,
        count: 17,
    };
    // truncated
    assert!(matches!(
        req.decode_response(&wire[..30]),
        Err(RtuError::Truncated { .. })
    ));
    // wrong CRC
    let mut bad = wire.clone();
    bad[38] ^= 0x01;
    assert!(matches!(
        req.decode_response(&bad),
        Err(RtuError::BadCrc { .. })
    ));
    // a flipped data bit is caught by the CRC too
    let mut bad = wire.clone();
    bad[10] ^= 0x40;
    assert!(matches!(
        Response::decode(&bad),
        Err(RtuError::BadCrc { .. })
    ));
    // wrong slave
    let other = Request::ReadHolding {
        slave: 6,
        addr: 0,
        count: 17,
    };
    assert_eq!(
        other.decode_response(&wire),
        Err(RtuError::WrongSlave {
            expected: 6,
            got: 5
        })
    );
    // wrong count
    let fewer = Request::ReadHolding {
        slave: 5,
        addr: 0,
        count: 16,
    };
    assert!(matches!(
        fewer.decode_response(&wire),
        Err(RtuError::Mismatch { .. })
    ));
    // exception to another function
    let w = Request::WriteSingle {
        slave: 5,
        addr: 1,
        value: 2,
    };
    assert!(w.decode_response(&hex("05 83 02 81 30")).is_err());
    // garbage, empty, trailing bytes, unsupported function
    assert!(Response::decode(&[]).is_err());
    assert!(Response::decode(&[0xFF; 3]).is_err());
    let mut long = wire.clone();
    long.push(0);
    assert!(matches!(
        Response::decode(&long),
        Err(RtuError::TooLong { .. })
    ));
    assert_eq!(
        Request::decode(&with_crc(vec![1, 0x2B, 0, 0, 0, 0])),
        Err(RtuError::UnsupportedFunction(0x2B))
    );
    // quantities out of range are refused both ways
    assert!(
        Request::ReadHolding {
            slave: 1,
            addr: 0,
            count: 126
        }
        .encode()
        .is_err()
    );
    assert!(
        Request::ReadHolding {
            slave: 0,
            addr: 0,
            count: 1
        }
        .encode()
        .is_err()
    );
    assert!(Request::decode(&with_crc(vec![1, 3, 0, 0, 0, 0])).is_err());
    // Reads to the broadcast address and to reserved addresses are refused both ways.
    assert_eq!(
        Request::decode(&with_crc(vec![0, 3, 0, 0, 0, 1])),
        Err(RtuError::BadSlave(0))
    );
    assert_eq!(
        Request::decode(&with_crc(vec![248, 6, 0, 0, 0, 1])),
        Err(RtuError::BadSlave(248))
    );
    assert!(Request::decode(&with_crc(vec![0, 6, 0, 1, 0, 1])).is_ok());
}

#[test]
fn wire_time_arithmetic() {
    // 8 + 39 bytes at 9600 baud 8E1: 47 × 11 bits = 517 bits = 53.854 ms.
    assert_eq!(
        wire_time(9600, Framing::E1, 47),
        Duration::from_nanos(53_854_167)
    );
    // + 2 × t3.5 (4.0104 ms each) + 50 ms turnaround.
    assert_eq!(
        exchange_floor(9600, Framing::E1, 8, 39, Duration::from_millis(50)),
        Duration::from_nanos(53_854_167 + 2 * 4_010_417 + 50_000_000)
    );
    let t = response_timeout(9600, 8, 39);
    assert!(
        t > Duration::from_millis(111) && t < Duration::from_millis(160),
        "{t:?}"
    );
    // Above 19200 baud the silence is fixed (Serial Line V1.02 §2.5.1.1).
    assert_eq!(silence_3_5(115_200), Duration::from_micros(1750));
    assert_eq!(Framing::parse("8n2"), Some(Framing::N2));
    assert_eq!(Framing::N2.bits_per_char(), 11);
}

fn arb_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        (1u8..=247, any::<u16>(), 1u16..=125)
            .prop_map(|(slave, addr, count)| { Request::ReadHolding { slave, addr, count } }),
        (0u8..=247, any::<u16>(), any::<u16>())
            .prop_map(|(slave, addr, value)| Request::WriteSingle { slave, addr, value }),
        (
            0u8..=247,
            any::<u16>(),
            proptest::collection::vec(any::<u16>(), 1..=123)
        )
            .prop_map(|(slave, addr, values)| Request::WriteMultiple {
                slave,
                addr,
                values
            }),
    ]
}

proptest! {
    #![proptest_config(crate::support::prop::config())]

    #[test]
    fn request_round_trip(req in arb_request()) {
        let wire = req.encode().unwrap();
        prop_assert_eq!(wire.len(), req.encoded_len());
        prop_assert_eq!(request_frame_len(&wire).unwrap(), FrameLen::Complete(wire.len()));
        prop_assert_eq!(Request::decode(&wire).unwrap(), req);
    }

    #[test]
    fn response_round_trip(req in arb_request(), code in 1u8..=11, exc in any::<bool>()) {
        let values: Vec<u16> = match &req {
            Request::ReadHolding { count, .. } => (0..*count).map(|i| i.wrapping_mul(7919)).collect(),
            _ => vec![],
        };
        let resp = if exc {
            Response::Exception { slave: req.slave(), function: req.function(), code: ExceptionCode::from_u8(code) }
        } else {
            Response::ok_for(&req, values)
        };
        let wire = resp.encode().unwrap();
        if !exc {
            prop_assert_eq!(wire.len(), req.expected_response_len());
        }
        prop_assert_eq!(req.decode_response(&wire).unwrap(), resp);
    }

    #[test]
    fn corrupted_frames_are_errors(req in arb_request(), pos in any::<usize>(), bit in 0u8..8) {
        let mut wire = req.encode().unwrap();
        let i = pos % wire.len();
        wire[i] ^= 1 << bit;
        // A single flipped bit either breaks the CRC or the structure: never accepted as the
        // original request.
        prop_assert_ne!(Request::decode(&wire).ok(), Some(req));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Request::decode(&bytes);
        let _ = Response::decode(&bytes);
        let _ = response_frame_len(&bytes);
        let _ = request_frame_len(&bytes);
    }
}
