//! Operators against a real redb file: argon2id hashes, forced password change, lockout
//! after 5 failures for 15 minutes (surviving a reopen of the store), permissions, the last
//! admin, session tokens, and an audit entry for every change.

use jiff::{SignedDuration, Timestamp};
use voltvend::auth::audit;
use voltvend::auth::operators::{self, AuthError, SESSIONS};
use voltvend::auth::{Actor, Role};
use voltvend::store::Store;

use crate::support::store::temp_store as store;

fn now() -> Timestamp {
    "2026-03-10T02:00:00Z".parse().unwrap()
}

fn root() -> Actor {
    Actor::system("test")
}

fn actions(store: &Store) -> Vec<String> {
    audit::recent(store, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn new_operator_must_change_password_then_logs_in_with_the_new_one() {
    let (_d, s) = store();
    operators::add_at(&s, &root(), "alice", Role::Cashier, "first-pass-1", now()).unwrap();
    let rec = operators::get(&s, "alice").unwrap().unwrap();
    assert!(
        rec.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        rec.password_hash
    );
    assert!(!rec.password_hash.contains("first-pass-1"));

    let session = operators::login(&s, "alice", "first-pass-1", now()).unwrap();
    assert_eq!(session.role, Role::Cashier);
    assert!(session.must_change_password);

    let alice = session.actor();
    // Own change needs the current password.
    assert!(matches!(
        operators::change_password(&s, &alice, "alice", Some("wrong"), "second-pass-2", now()),
        Err(AuthError::WrongCurrentPassword)
    ));
    assert!(matches!(
        operators::change_password(
            &s,
            &alice,
            "alice",
            Some("first-pass-1"),
            "first-pass-1",
            now()
        ),
        Err(AuthError::WeakPassword(_))
    ));
    operators::change_password(
        &s,
        &alice,
        "alice",
        Some("first-pass-1"),
        "second-pass-2",
        now(),
    )
    .unwrap();
    let session = operators::login(&s, "alice", "second-pass-2", now()).unwrap();
    assert!(!session.must_change_password);
    assert!(matches!(
        operators::login(&s, "alice", "first-pass-1", now()),
        Err(AuthError::BadCredentials)
    ));
    assert_eq!(
        actions(&s),
        [
            "operator.add",
            "operator.login",
            "operator.password_change",
            "operator.login",
            "operator.login_failed"
        ]
    );
    assert!(audit::verify(&s).unwrap().is_intact());
}

#[test]
fn five_failures_lock_for_fifteen_minutes_and_the_lock_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.redb");
    {
        let s = Store::open(&path).unwrap();
        operators::add_at(&s, &root(), "bob", Role::Viewer, "bob-password", now()).unwrap();
        for i in 1..=4 {
            let t = now() + SignedDuration::from_secs(i);
            assert!(matches!(
                operators::login(&s, "bob", "nope-nope", t),
                Err(AuthError::BadCredentials)
            ));
        }
        assert_eq!(operators::get(&s, "bob").unwrap().unwrap().failed_logins, 4);
    }
    // Reopen: the count was stored.
    let s = Store::open(&path).unwrap();
    let fifth = now() + SignedDuration::from_secs(5);
    let until = fifth + SignedDuration::from_mins(15);
    match operators::login(&s, "bob", "nope-nope", fifth) {
        Err(AuthError::Locked { name, until: u }) => {
            assert_eq!(name, "bob");
            assert_eq!(u, until);
        }
        other => panic!("expected a lockout, got {other:?}"),
    }
    drop(s);
    let s = Store::open(&path).unwrap();
    // Even the right password is refused while locked, with the time it ends.
    let err = operators::login(
        &s,
        "bob",
        "bob-password",
        until - SignedDuration::from_secs(1),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "operator 'bob' is locked until 2026-03-10T02:15:05Z after 5 failed logins; wait, or have an admin reset the password"
    );
    // At the end of the 15 minutes it works, and the count starts again from zero.
    let session = operators::login(&s, "bob", "bob-password", until).unwrap();
    assert_eq!(session.name, "bob");
    let rec = operators::get(&s, "bob").unwrap().unwrap();
    assert_eq!((rec.failed_logins, rec.locked_until), (0, None));
    let acts = actions(&s);
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "operator.login_failed")
            .count(),
        4
    );
    assert_eq!(acts.iter().filter(|a| *a == "operator.locked").count(), 1);
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "operator.login_refused")
            .count(),
        1
    );
}

#[test]
fn a_success_resets_the_failure_count() {
    let (_d, s) = store();
    operators::add_at(&s, &root(), "carol", Role::Viewer, "carol-password", now()).unwrap();
    for _ in 0..4 {
        let _ = operators::login(&s, "carol", "bad-password", now());
    }
    operators::login(&s, "carol", "carol-password", now()).unwrap();
    for _ in 0..4 {
        assert!(matches!(
            operators::login(&s, "carol", "bad-password", now()),
            Err(AuthError::BadCredentials)
        ));
    }
    assert!(operators::login(&s, "carol", "carol-password", now()).is_ok());
}

#[test]
fn an_admin_reset_lifts_the_lock_and_forces_a_change() {
    let (_d, s) = store();
    operators::add_at(&s, &root(), "admin", Role::Admin, "admin-password", now()).unwrap();
    operators::add_at(&s, &root(), "dave", Role::Cashier, "dave-password", now()).unwrap();
    for _ in 0..5 {
        let _ = operators::login(&s, "dave", "bad-password", now());
    }
    let admin = Actor::operator("admin", Role::Admin);
    operators::change_password(&s, &admin, "dave", None, "fresh-password", now()).unwrap();
    let session = operators::login(&s, "dave", "fresh-password", now()).unwrap();
    assert!(session.must_change_password);
    assert!(actions(&s).contains(&"operator.password_reset".to_string()));
}

#[test]
fn unknown_names_and_disabled_operators_are_refused() {
    let (_d, s) = store();
    operators::add_at(&s, &root(), "admin", Role::Admin, "admin-password", now()).unwrap();
    operators::add_at(&s, &root(), "erin", Role::Cashier, "erin-password", now()).unwrap();
    // Same message for an unknown name as for a wrong password.
    let err = operators::login(&s, "mallory", "whatever-1", now()).unwrap_err();
    assert_eq!(err.to_string(), "wrong name or password");
    operators::set_disabled(&s, &root(), "erin", true).unwrap();
    assert!(matches!(
        operators::login(&s, "erin", "erin-password", now()),
        Err(AuthError::Disabled(_))
    ));
    operators::set_disabled(&s, &root(), "erin", false).unwrap();
    assert!(operators::login(&s, "erin", "erin-password", now()).is_ok());
}

#[test]
fn only_operator_managers_manage_operators() {
    let (_d, s) = store();
    operators::add_at(&s, &root(), "admin", Role::Admin, "admin-password", now()).unwrap();
    operators::add_at(&s, &root(), "frank", Role::Cashier, "frank-password", now()).unwrap();
    let cashier = Actor::operator("frank", Role::Cashier);
    let err =
        operators::add_at(&s, &cashier, "gina", Role::Admin, "gina-password", now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "op:frank may not add operators (needs permission ManageOperators)"
    );
    assert!(matches!(
        operators::change_password(&s, &cashier, "admin", None, "taken-over", now()),
        Err(AuthError::Forbidden { .. })
    ));
    assert!(matches!(
        operators::set_role(&s, &cashier, "frank", Role::Admin),
        Err(AuthError::Forbidden { .. })
    ));
    assert!(operators::get(&s, "gina").unwrap().is_none());
    // Nothing refused was audited as done.
    assert_eq!(actions(&s), ["operator.add", "operator.add"]);
}

#[test]
fn bad_names_passwords_and_duplicates_are_refused_with_a_reason() {
    let (_d, s) = store();
    let e = |r: Result<(), AuthError>| r.unwrap_err().to_string();
    assert_eq!(
        e(operators::add_at(
            &s,
            &root(),
            "bad name",
            Role::Viewer,
            "long-enough",
            now()
        )),
        "'bad name' is not a valid operator name (1-32 characters: letters, digits, '.', '_', '-')"
    );
    assert_eq!(
        e(operators::add_at(
            &s,
            &root(),
            "hank",
            Role::Viewer,
            "short",
            now()
        )),
        "password refused: it has fewer than 8 characters"
    );
    assert_eq!(
        e(operators::add_at(
            &s,
            &root(),
            "hank1234",
            Role::Viewer,
            "HANK1234",
            now()
        )),
        "password refused: it is the operator's name"
    );
    operators::add_at(&s, &root(), "hank", Role::Viewer, "long-enough", now()).unwrap();
    assert_eq!(
        e(operators::add_at(
            &s,
            &root(),
            "hank",
            Role::Admin,
            "long-enough",
            now()
        )),
        "operator 'hank' already exists"
    );
    assert_eq!(operators::list(&s).unwrap().len(), 1);
}

#[test]
fn the_last_admin_cannot_be_disabled_or_demoted() {
    let (_d, s) = store();
    operators::add_at(&s, &root(), "root", Role::Admin, "root-password", now()).unwrap();
    assert_eq!(
        operators::set_disabled(&s, &root(), "root", true)
            .unwrap_err()
            .to_string(),
        "'root' is the last enabled admin; add another admin first"
    );
    assert!(matches!(
        operators::set_role(&s, &root(), "root", Role::Viewer),
        Err(AuthError::LastAdmin(_))
    ));
    operators::add_at(&s, &root(), "root2", Role::Admin, "root-password", now()).unwrap();
    operators::set_role(&s, &root(), "root", Role::Viewer).unwrap();
    assert_eq!(
        operators::get(&s, "root").unwrap().unwrap().role,
        Role::Viewer
    );
}

#[test]
fn tokens_are_random_stored_hashed_expire_and_end_with_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.redb");
    let s = Store::open(&path).unwrap();
    operators::add_at(&s, &root(), "ivy", Role::Installer, "ivy-password", now()).unwrap();
    let session = operators::login(&s, "ivy", "ivy-password", now()).unwrap();
    let ttl = SignedDuration::from_hours(1);
    let token = operators::issue_token(&s, &session, now(), ttl).unwrap();
    let other = operators::issue_token(&s, &session, now(), ttl).unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(token, other);

    let checked =
        operators::check_token(&s, &token, now() + SignedDuration::from_mins(59)).unwrap();
    assert_eq!(
        (checked.name.as_str(), checked.role),
        ("ivy", Role::Installer)
    );
    assert!(matches!(
        operators::check_token(&s, &token, now() + ttl),
        Err(AuthError::BadToken)
    ));
    assert!(matches!(
        operators::check_token(&s, "00", now()),
        Err(AuthError::BadToken)
    ));

    // Only the hash is stored: the token's text is nowhere in the table or the file.
    {
        use redb::{ReadableDatabase, ReadableTable};
        let txn = s.db().begin_read().unwrap();
        let table = txn.open_table(SESSIONS).unwrap();
        for row in table.iter().unwrap() {
            let (k, v) = row.unwrap();
            assert_ne!(k.value(), token);
            assert!(!String::from_utf8_lossy(v.value()).contains(&token));
        }
    }
    drop(s);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(64).any(|w| w == token.as_bytes()));
    assert!(!bytes.windows(12).any(|w| w == b"ivy-password"));

    // Changing the password ends every session; revoking ends one.
    let s = Store::open(&path).unwrap();
    operators::revoke_token(&s, &other).unwrap();
    assert!(operators::check_token(&s, &other, now()).is_err());
    assert!(operators::check_token(&s, &token, now()).is_ok());
    operators::change_password(
        &s,
        &session.actor(),
        "ivy",
        Some("ivy-password"),
        "ivy-password-2",
        now(),
    )
    .unwrap();
    assert!(operators::check_token(&s, &token, now()).is_err());
    let acts = actions(&s);
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "operator.session_start")
            .count(),
        2
    );
    assert_eq!(
        acts.iter().filter(|a| *a == "operator.session_end").count(),
        1
    );
    assert!(audit::verify(&s).unwrap().is_intact());
}

#[test]
fn generated_passwords_are_long_and_different() {
    let a = operators::generate_password();
    let b = operators::generate_password();
    assert_eq!(a.chars().count(), 16);
    assert_ne!(a, b);
    assert!(operators::check_password("x", &a).is_ok());
}
