//! `voltvend check`: every bad key or value is reported with file:line:col and a fix, and
//! the defaults are what an empty file gives.

use voltvend::config::{Config, DEFAULT_TOML, check_text};

fn messages(text: &str) -> Vec<String> {
    match check_text("site.toml", text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn empty_file_gives_the_defaults() {
    assert_eq!(check_text("site.toml", "").unwrap(), Config::default());
    assert_eq!(
        check_text("site.toml", DEFAULT_TOML).unwrap(),
        Config::default()
    );
}

#[test]
fn every_bad_key_and_value_is_reported_with_its_place() {
    let text = "\
[site]
name = \"Plaza\"
timezon = \"Asia/Shanghai\"

[collector]
retries = \"three\"
offline_after = 3
live_sweep_floor = \"2 weeks\"

[printer]
target = \"lpt1\"

[kiosk]
theme = \"dark\"
";
    assert_eq!(
        messages(text),
        [
            "site.toml:3:1: site.timezon: unknown field 'timezon', expected 'name' or 'timezone'; \
             remove it or check the spelling (see docs/config.md#site)",
            "site.toml:6:11: collector.retries: invalid type: string \"three\", expected u32; \
             see docs/config.md#collector",
            "site.toml:8:20: collector.live_sweep_floor: '2 weeks' is not a duration \
             (e.g. 250ms, 30s, 5m, 2h, 1d); see docs/config.md#collector",
            "site.toml:13:2: kiosk: unknown section 'kiosk'; remove it or check the spelling \
             (sections: site, paths, api, collector, alarms, printer, payment, sms, archive)",
        ]
    );
}

#[test]
fn values_that_parse_but_make_no_sense_are_reported_at_the_value() {
    let text = "\
[api]
listen = \"localhost\"

[printer]
target = \"lpt1\"
chars_per_line = 300

[site]
timezone = \"Mars/Olympus\"
";
    assert_eq!(
        messages(text),
        [
            "site.toml:2:10: api.listen: 'localhost' is not an IP:PORT address \
             (e.g. 127.0.0.1:8080); see docs/config.md#api",
            "site.toml:5:10: printer.target: 'lpt1' is not a printer target \
             (none, file:/dev/usb/lp0 or tcp:HOST:9100); see docs/config.md#printer",
            "site.toml:6:18: printer.chars_per_line: '300' is out of range (16-64); \
             see docs/config.md#printer",
            "site.toml:9:12: site.timezone: 'Mars/Olympus' is not a known time zone \
             (e.g. Asia/Shanghai); see docs/config.md#site",
        ]
    );
}

#[test]
fn syntax_errors_have_a_line() {
    let m = messages("[site]\nname = \"unterminated\n[api]\n");
    assert!(!m.is_empty());
    assert!(m[0].starts_with("site.toml:2:"), "{m:?}");
    assert!(m[0].ends_with("fix the TOML syntax"), "{m:?}");
}

#[test]
fn partial_files_keep_the_other_defaults() {
    let c = check_text("site.toml", "[collector]\ninterval = \"15m\"\n").unwrap();
    assert_eq!(c.collector.interval.unwrap().0.as_secs(), 900);
    assert_eq!(c.collector.retries, Config::default().collector.retries);
    let d = c.apply_to(voltvend::site::SiteDefaults::default());
    assert_eq!(d.collection_interval_s, 900);
    assert_eq!(d.timezone, "Asia/Shanghai");
}
