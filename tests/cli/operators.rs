//! `voltvend operator add|passwd|list|disable` run as the real binary against a store file.

use std::process::{Output, Stdio};
use voltvend::auth::Role;
use voltvend::auth::audit;
use voltvend::auth::operators;
use voltvend::store::Store;

use crate::support::bin::{self, text};

/// `voltvend ARGS` run by the Unix user "tester", with `stdin` typed in.
fn voltvend(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = bin::voltvend();
    cmd.args(args).env("USER", "tester");
    bin::output_with(cmd, stdin)
}

#[test]
fn add_list_passwd_disable_through_the_binary() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("v.redb");
    let p = path.to_str().unwrap();

    let out = voltvend(
        &[
            "operator",
            "add",
            "alice",
            "--role",
            "admin",
            "--password-stdin",
            "--store",
            p,
        ],
        Some("alice-secret-1\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "added operator 'alice' (admin); the password must be changed at first login\n"
    );

    // Generated: printed once, and it works.
    let out = voltvend(
        &[
            "operator",
            "add",
            "bob",
            "--role",
            "cashier",
            "--generate",
            "--store",
            p,
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let generated = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password printed")
        .to_string();
    assert_eq!(generated.len(), 16);

    {
        let s = Store::open(&path).unwrap();
        let now = jiff::Timestamp::now();
        let a = operators::login(&s, "alice", "alice-secret-1", now).unwrap();
        assert_eq!(a.role, Role::Admin);
        assert!(a.must_change_password);
        assert!(operators::login(&s, "bob", &generated, now).is_ok());
        // The CLI is recorded as the Unix user who ran it.
        let first = &audit::recent(&s, 100).unwrap()[0];
        assert_eq!(first.actor.label(), "system:cli:tester");
        assert_eq!(first.action, "operator.add");
    }

    let out = voltvend(&["operator", "list", "--store", p], None);
    assert!(out.status.success());
    let list = text(&out.stdout);
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{list}");
    assert!(
        lines[1].starts_with("alice") && lines[1].contains("admin"),
        "{list}"
    );
    assert!(lines[1].contains("must change password"), "{list}");
    assert!(
        lines[2].starts_with("bob") && lines[2].contains("cashier"),
        "{list}"
    );

    // Reset bob's password from stdin.
    let out = voltvend(
        &[
            "operator",
            "passwd",
            "bob",
            "--password-stdin",
            "--store",
            p,
        ],
        Some("bob-new-pass\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    {
        let s = Store::open(&path).unwrap();
        let now = jiff::Timestamp::now();
        assert!(operators::login(&s, "bob", &generated, now).is_err());
        assert!(operators::login(&s, "bob", "bob-new-pass", now).is_ok());
    }

    let out = voltvend(&["operator", "disable", "bob", "--store", p], None);
    assert!(out.status.success());
    let out = voltvend(&["operator", "list", "--store", p], None);
    assert!(text(&out.stdout).contains("disabled"));
    // The last admin stays.
    let out = voltvend(&["operator", "disable", "alice", "--store", p], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("'alice' is the last enabled admin"),
        "{}",
        text(&out.stderr)
    );
    let out = voltvend(&["audit", "verify", "--store", p], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn mistakes_are_refused_with_a_reason_and_change_nothing() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("v.redb");
    let p = path.to_str().unwrap();

    let out = voltvend(
        &[
            "operator",
            "add",
            "carol",
            "--role",
            "boss",
            "--generate",
            "--store",
            p,
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("unknown role 'boss'; choose one of admin, cashier, viewer, installer"),
        "{}",
        text(&out.stderr)
    );

    let out = voltvend(
        &[
            "operator",
            "add",
            "carol",
            "--role",
            "viewer",
            "--password-stdin",
            "--store",
            p,
        ],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("password refused: it has fewer than 8 characters"));

    // No terminal and no flag: a clear message, not a hang. The child runs in its own
    // session, so it has no controlling terminal even when the tests are run from one.
    let out = {
        use std::os::unix::process::CommandExt;
        let mut cmd = bin::voltvend();
        cmd.args(["operator", "add", "carol", "--role", "viewer", "--store", p])
            .stdin(Stdio::null());
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        cmd.output().unwrap()
    };
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("no terminal to prompt for a password; use --password-stdin or --generate"),
        "{}",
        text(&out.stderr)
    );
    assert!(!path.exists(), "a refused add must not create the store");

    let out = voltvend(
        &["operator", "passwd", "nobody", "--generate", "--store", p],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no voltvend store at"));
    assert!(!path.exists(), "passwd must not create a store");

    drop(Store::open(&path).unwrap());
    let out = voltvend(
        &["operator", "passwd", "nobody", "--generate", "--store", p],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no operator named 'nobody'"));

    let s = Store::open(&path).unwrap();
    assert!(operators::list(&s).unwrap().is_empty());
}

#[test]
fn help_explains_roles_and_password_sources() {
    let out = voltvend(&["operator", "--help"], None);
    let help = text(&out.stdout);
    for needle in ["add", "passwd", "list", "cashier", "15 minutes", "--store"] {
        assert!(help.contains(needle), "missing {needle}: {help}");
    }
    let out = voltvend(&["operator", "add", "--help"], None);
    let help = text(&out.stdout);
    for needle in ["--password-stdin", "--generate", "--role"] {
        assert!(help.contains(needle), "missing {needle}: {help}");
    }
}
