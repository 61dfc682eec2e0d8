//! SMS PDU codec: test-vectors §7 byte-exact (python-gsmmodem-new, checked field by field
//! against 3GPP TS 23.040), a published GSM 7-bit example, concatenation, round trips and
//! error values on garbage.

use proptest::prelude::*;
use voltvend::alarm::sms::pdu::*;

const SECTION_7_TEXT: &str = "尊敬的商户A-101，您的电费余额为18.50元";
const SECTION_7_PDU: &str = "0001000D91683108108300F00008305C0A656C7684554662370041002D003100300031FF0C60A8768475358D394F59989D4E3A00310038002E003500305143";

#[test]
fn ucs2_known_answer_section_7() {
    let pdus = encode_submit("+8613800138000", SECTION_7_TEXT, &SubmitOptions::default()).unwrap();
    assert_eq!(pdus.len(), 1);
    assert_eq!(pdus[0].hex(), SECTION_7_PDU);
    assert_eq!(pdus[0].cmgs_len(), 62);
    assert_eq!(pdus[0].bytes.len(), 63);
    let sms = decode_hex(SECTION_7_PDU).unwrap();
    assert_eq!(sms.kind, Kind::Submit);
    assert_eq!(sms.number, "+8613800138000");
    assert_eq!(sms.encoding, Encoding::Ucs2);
    assert_eq!(sms.text, SECTION_7_TEXT);
    assert_eq!(sms.smsc, None);
}

#[test]
fn gsm7_published_example() {
    // Lars Pettersson, "SMS and the PDU format" (dreamfabric.com): "hellohello" to
    // +46708251358, validity AA (4 days): 0011000B916407281553F80000AA0AE8329BFD4697D9EC37.
    let opts = SubmitOptions {
        validity: Some(0xAA),
        ..SubmitOptions::default()
    };
    let pdus = encode_submit("+46708251358", "hellohello", &opts).unwrap();
    assert_eq!(
        pdus[0].hex(),
        "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    );
    assert_eq!(pdus[0].cmgs_len(), 23);
    let sms = decode(&pdus[0].bytes).unwrap();
    assert_eq!(
        (sms.number.as_str(), sms.text.as_str()),
        ("+46708251358", "hellohello")
    );
}

#[test]
fn encoding_choice_and_extension_table() {
    assert_eq!(choose_encoding("Balance 18.50 CNY @ A-101"), Encoding::Gsm7);
    assert_eq!(choose_encoding("余额"), Encoding::Ucs2);
    assert_eq!(choose_encoding("`backtick`"), Encoding::Ucs2);
    let text = "[€5] {ok} ~|^\\";
    let p = encode_submit("13800138000", text, &SubmitOptions::default()).unwrap();
    assert_eq!(p.len(), 1);
    let sms = decode(&p[0].bytes).unwrap();
    assert_eq!(sms.encoding, Encoding::Gsm7);
    assert_eq!(sms.text, text);
    // National number without '+': type 0x81.
    assert_eq!(sms.number, "13800138000");
    assert_eq!(p[0].bytes[3..5], [11, 0x81]);
}

#[test]
fn long_messages_are_concatenated() {
    // 161 GSM characters: two parts of 153 + 8 septets.
    let text: String = "0123456789".repeat(16) + "X";
    let opts = SubmitOptions {
        concat_ref: 0x42,
        ..SubmitOptions::default()
    };
    let parts = encode_submit("+8613800138000", &text, &opts).unwrap();
    assert_eq!(parts.len(), 2);
    // UDHI set; UDH = 05 00 03 ref total seq; UDL counts header septets (7) + text.
    let first = &parts[0].bytes;
    assert_eq!(first[1], 0x41);
    let udl_at = 1 + 2 + 9 + 2;
    assert_eq!(first[udl_at], 7 + 153);
    assert_eq!(&first[udl_at + 1..udl_at + 7], &[5, 0, 3, 0x42, 2, 1]);
    let decoded: Vec<Sms> = parts.iter().map(|p| decode(&p.bytes).unwrap()).collect();
    assert_eq!(
        decoded[1].concat,
        Some(Concat {
            reference: 0x42,
            total: 2,
            seq: 2
        })
    );
    let mut shuffled = decoded.clone();
    shuffled.reverse();
    assert_eq!(reassemble(&shuffled).unwrap(), text);
    assert!(
        reassemble(&decoded[..1]).is_err(),
        "a missing part is an error"
    );

    // 71 Chinese characters: two UCS-2 parts of 67 + 4.
    let zh: String = "电".repeat(71);
    let parts = encode_submit("+8613800138000", &zh, &opts).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].cmgs_len(), 1 + 1 + 9 + 3 + 6 + 134);
    let decoded: Vec<Sms> = parts.iter().map(|p| decode(&p.bytes).unwrap()).collect();
    assert_eq!(reassemble(&decoded).unwrap(), zh);
}

#[test]
fn no_split_inside_escape_or_surrogate_pair() {
    // 152 'a' then '€' (2 septets): '€' must move whole to part 2.
    let text = "a".repeat(152) + "€" + &"b".repeat(10);
    let parts = encode_submit("+861", &text, &SubmitOptions::default()).unwrap();
    let d: Vec<Sms> = parts.iter().map(|p| decode(&p.bytes).unwrap()).collect();
    assert_eq!(d[0].text, "a".repeat(152));
    assert_eq!(reassemble(&d).unwrap(), text);
    // 66 BMP chars then an emoji (surrogate pair) at the part boundary.
    let text = "字".repeat(66) + "😀" + &"字".repeat(10);
    let parts = encode_submit("+861", &text, &SubmitOptions::default()).unwrap();
    let d: Vec<Sms> = parts.iter().map(|p| decode(&p.bytes).unwrap()).collect();
    assert_eq!(d[0].text, "字".repeat(66));
    assert_eq!(reassemble(&d).unwrap(), text);
}

#[test]
fn smsc_status_report_and_deliver() {
    let opts = SubmitOptions {
        smsc: Some("+8613800100500".into()),
        status_report: true,
        validity: Some(0xA7),
        message_ref: 9,
        concat_ref: 0,
    };
    let p = &encode_submit("+8613800138000", "hi", &opts).unwrap()[0];
    // SMSC: 08 91 68 31 08 10 00 05 F0; the CMGS length excludes those 9 octets.
    assert_eq!(
        &p.bytes[..9],
        &hex::decode("0891683108100005F0").unwrap()[..]
    );
    assert_eq!(p.cmgs_len(), p.bytes.len() - 9);
    let sms = decode(&p.bytes).unwrap();
    assert_eq!(sms.smsc.as_deref(), Some("+8613800100500"));
    assert_eq!(sms.message_ref, Some(9));
    assert_eq!(sms.text, "hi");

    // An SMS-DELIVER built by hand per TS 23.040 §9.2.2.1: from +8613800138000, GSM 7,
    // time stamp 2026-11-24 23:50:00 +08, "hellohello".
    let deliver = "00040D91683108108300F0000062114232050023\
                   0AE8329BFD4697D9EC37";
    let sms = decode_hex(&deliver.replace(' ', "")).unwrap();
    assert_eq!(sms.kind, Kind::Deliver);
    assert_eq!(sms.number, "+8613800138000");
    assert_eq!(sms.text, "hellohello");
    assert!(sms.timestamp.is_some());
}

#[test]
fn bad_input_gives_error_values() {
    assert!(encode_submit("", "x", &SubmitOptions::default()).is_err());
    assert!(encode_submit("+86abc", "x", &SubmitOptions::default()).is_err());
    assert!(encode_submit("+123456789012345678901", "x", &SubmitOptions::default()).is_err());
    assert!(decode(&[]).is_err());
    assert!(decode_hex("zz").is_err());
    let full = hex::decode(SECTION_7_PDU).unwrap();
    for cut in 0..full.len() {
        assert!(decode(&full[..cut]).is_err(), "cut {cut}");
    }
    // TP-MTI 3 (reserved)
    assert!(decode(&[0, 0x03]).is_err());
}

proptest! {
    #![proptest_config(crate::support::prop::config())]

    #[test]
    fn round_trip_any_text(text in "\\PC{0,400}", intl in any::<bool>(), digits in "[0-9]{3,15}") {
        let number = if intl { format!("+{digits}") } else { digits.clone() };
        let parts = encode_submit(&number, &text, &SubmitOptions::default()).unwrap();
        let decoded: Vec<Sms> = parts.iter().map(|p| decode(&p.bytes).unwrap()).collect();
        for (p, d) in parts.iter().zip(&decoded) {
            prop_assert_eq!(&d.number, &number);
            prop_assert!(p.tpdu_len <= 164, "TPDU of {} octets", p.tpdu_len);
        }
        prop_assert_eq!(reassemble(&decoded).unwrap(), text);
    }

    #[test]
    fn gsm_text_round_trip(text in "[ -_a-~@£$¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà€\n]{0,400}") {
        let parts = encode_submit("+8613800138000", &text, &SubmitOptions::default()).unwrap();
        let decoded: Vec<Sms> = parts.iter().map(|p| decode(&p.bytes).unwrap()).collect();
        prop_assert!(decoded.iter().all(|d| d.encoding == Encoding::Gsm7));
        prop_assert_eq!(reassemble(&decoded).unwrap(), text);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
    }
}
