//! `voltvend init` and `voltvend check` as a newcomer runs them.

use std::process::Output;

use crate::support::bin::output as voltvend;

#[test]
fn init_creates_config_and_store_then_check_passes_and_import_finds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let out = voltvend(&["init", "--dir", data_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = data.join("voltvend.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(&format!(
        "data_dir = \"{}\"",
        data.canonicalize().unwrap().display()
    )));
    assert!(data.join("voltvend.redb").is_file());
    // The first admin, with a password printed once that logs in and must be changed.
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let password = stdout
        .split("created the admin operator 'admin' with the password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no admin password in: {stdout}"))
        .to_string();
    {
        let store = voltvend::store::Store::open(&data.join("voltvend.redb")).unwrap();
        let session =
            voltvend::auth::operators::login(&store, "admin", &password, jiff::Timestamp::now())
                .unwrap();
        assert!(session.must_change_password);
    }
    let dump = || {
        let store = voltvend::store::Store::open(&data.join("voltvend.redb")).unwrap();
        voltvend::import::dump(&store).unwrap()
    };
    let store_before = dump();
    let actions = [
        "site.defaults.set",
        "site.init",
        "operator.add",
        "operator.login",
    ];
    for (row, action) in store_before.iter().skip(1).zip(actions) {
        assert!(row.contains(&format!("\"action\":\"{action}\"")), "{row}");
    }
    assert_eq!(store_before.len(), 5, "{store_before:?}");

    // Again: keeps both.
    let out = voltvend(&["init", "--dir", data_s]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("kept the existing config"), "{stdout}");
    assert!(stdout.contains("kept the store"), "{stdout}");
    assert!(!stdout.contains("password"), "{stdout}");
    assert!(dump() == store_before, "a second init changed the store");

    let out = voltvend(&["check", "--config", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": OK"));

    // import finds the store through the config.
    let buildings = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/site/buildings.csv");
    let out = voltvend(&[
        "import",
        "buildings",
        buildings,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("2 added, 0 updated, 0 unchanged\n"));
}

#[test]
fn check_reports_every_problem_with_line_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[api]\nlisten = \"0.0.0.0\"\n\n[collector]\nretries = -1\nofline_after = 3\n",
    )
    .unwrap();
    let out = voltvend(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let f = config.display();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[..2],
        [
            format!(
                "{f}:5:11: collector.retries: invalid value: integer '-1', expected u32; see docs/config.md#collector"
            ),
            format!(
                "{f}:6:1: collector.ofline_after: unknown field 'ofline_after', expected one of 'interval', 'live_sweep_floor', 'retries', 'offline_after', 'connect_timeout', 'answer_slack', 'link_key_file'; remove it or check the spelling (see docs/config.md#collector)"
            ),
        ]
    );
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    // The semantic check on api.listen runs once the keys are well-formed.
    std::fs::write(&config, "[api]\nlisten = \"0.0.0.0\"\n").unwrap();
    let out = voltvend(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!(
        "{f}:2:10: api.listen: '0.0.0.0' is not an IP:PORT address (e.g. 127.0.0.1:8080); see docs/config.md#api\n"
    )));
}

#[test]
fn a_tariff_file_is_checked_then_stored_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        voltvend(&["init", "--dir", data.to_str().unwrap()])
            .status
            .success()
    );
    let config = data.join("voltvend.toml");
    let config = config.to_str().unwrap();
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/site/tariff-default.toml"
    );
    let stdout = |o: &Output| String::from_utf8_lossy(&o.stdout).to_string();
    let dump = || {
        let store = voltvend::store::Store::open(&data.join("voltvend.redb")).unwrap();
        voltvend::import::dump(&store).unwrap()
    };
    let before = dump();

    let out = voltvend(&["tariff", example, "--dry-run", "--config", config]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        "tariff default added (dry run: nothing written): from 2025-12-31T16:00:00Z: tiered ≤200 kWh 0.5283, ≤400 kWh 0.5783, above 0.8283; from 2026-12-31T16:00:00Z: time of use sharp 1.2000 peak 1.0000 flat 0.6000 valley 0.3000 (5 periods a day)\n"
    );
    assert!(dump() == before, "a dry run wrote to the store");

    // A broken file: one message with the file and line; nothing stored.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"default\"\nkind = \"flat\"\nprice = \"0.9\n").unwrap();
    let out = voltvend(&["tariff", bad.to_str().unwrap(), "--config", config]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3: ", bad.display())) && err.contains("nothing was stored"),
        "{err}"
    );
    assert!(dump() == before, "a bad file changed the store");

    let out = voltvend(&["tariff", example, "--config", config]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).starts_with("tariff default added: from 2025-12-31T16:00:00Z: tiered"));
    let out = voltvend(&["tariff", example, "--config", config]);
    assert!(
        stdout(&out).starts_with("tariff default unchanged: "),
        "{}",
        stdout(&out)
    );
    let out = voltvend(&["tariff", "--list", "--config", config]);
    assert!(
        stdout(&out).starts_with("default      from 2025-12-31T16:00:00Z: tiered ≤200 kWh 0.5283"),
        "{}",
        stdout(&out)
    );
    let log = dump();
    assert!(
        log.iter()
            .any(|r| r.contains("\"action\":\"site.tariff.set\"") && r.contains("cli tariff")),
        "{log:?}"
    );
}
