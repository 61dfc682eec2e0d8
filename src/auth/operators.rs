//! Operators (staff accounts): argon2id password hashes, roles, lockout after repeated
//! failed logins, forced password change on first login, and API session tokens.
//!
//! Every change is written in one redb transaction together with its audit entry. Password
//! hashing and checking (tens of milliseconds by design) happen outside write transactions,
//! so a login never holds up a sale.

use crate::auth::audit::append_in;
use crate::auth::{Actor, Permission, Role};
use crate::store::{Store, StoreError, decode, encode};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

/// name → JSON [`OperatorRecord`].
pub const OPERATORS: TableDefinition<&str, &[u8]> = TableDefinition::new("operators");
/// hex SHA-256 of a session token → JSON [`SessionRecord`]. The token itself is never stored.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");

/// Failed logins in a row that lock an operator out.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a lockout lasts.
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(15);
/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Default lifetime of an API session token.
pub const SESSION_TTL: SignedDuration = SignedDuration::from_hours(12);

/// What is stored per operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRecord {
    pub name: String,
    pub role: Role,
    /// argon2id PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`).
    pub password_hash: String,
    /// Set when someone else chose the password (creation, reset); cleared when the
    /// operator changes it themselves.
    pub must_change_password: bool,
    pub disabled: bool,
    /// Failed logins since the last success or lockout.
    pub failed_logins: u32,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub password_changed_at: Timestamp,
    pub last_login: Option<Timestamp>,
}

/// An operator as shown to people (no hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorView {
    pub name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub disabled: bool,
    pub failed_logins: u32,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_login: Option<Timestamp>,
}

impl From<&OperatorRecord> for OperatorView {
    fn from(r: &OperatorRecord) -> OperatorView {
        OperatorView {
            name: r.name.clone(),
            role: r.role,
            must_change_password: r.must_change_password,
            disabled: r.disabled,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until,
            created_at: r.created_at,
            last_login: r.last_login,
        }
    }
}

/// A logged-in operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub name: String,
    pub role: Role,
    /// The operator may do nothing but change their password until this is false.
    pub must_change_password: bool,
}

impl Session {
    /// The actor to pass to operations done in this session.
    pub fn actor(&self) -> Actor {
        Actor::operator(&self.name, self.role)
    }
}

/// A stored API session (keyed by the token's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub name: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Why an operator operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{actor} may not {what} (needs permission {permission:?})")]
    Forbidden {
        actor: String,
        what: &'static str,
        permission: Permission,
    },
    #[error("'{0}' is not a valid operator name (1-32 characters: letters, digits, '.', '_', '-')")]
    BadName(String),
    #[error("operator '{0}' already exists")]
    Exists(String),
    #[error("no operator named '{0}'")]
    NotFound(String),
    #[error("wrong name or password")]
    BadCredentials,
    #[error(
        "operator '{name}' is locked until {until} after {MAX_FAILED_LOGINS} failed logins; wait, or have an admin reset the password"
    )]
    Locked { name: String, until: Timestamp },
    #[error("operator '{0}' is disabled")]
    Disabled(String),
    #[error("password refused: {0}")]
    WeakPassword(String),
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("'{0}' is the last enabled admin; add another admin first")]
    LastAdmin(String),
    #[error("the session token is unknown, expired or revoked")]
    BadToken,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("time out of range: {0}")]
    Time(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<redb::TransactionError> for AuthError {
    fn from(e: redb::TransactionError) -> Self {
        AuthError::Store(e.into())
    }
}
impl From<redb::TableError> for AuthError {
    fn from(e: redb::TableError) -> Self {
        AuthError::Store(e.into())
    }
}
impl From<redb::StorageError> for AuthError {
    fn from(e: redb::StorageError) -> Self {
        AuthError::Store(e.into())
    }
}
impl From<redb::CommitError> for AuthError {
    fn from(e: redb::CommitError) -> Self {
        AuthError::Store(e.into())
    }
}

fn require(actor: &Actor, permission: Permission, what: &'static str) -> Result<(), AuthError> {
    if actor.may(permission) {
        Ok(())
    } else {
        Err(AuthError::Forbidden {
            actor: actor.label(),
            what,
            permission,
        })
    }
}

/// Operator names: short, plain, usable on a command line and in a log.
pub fn check_name(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadName(name.to_string()))
    }
}

/// The password policy: at least [`MIN_PASSWORD_LEN`] characters, not the name.
pub fn check_password(name: &str, password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::WeakPassword(format!(
            "it has fewer than {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.eq_ignore_ascii_case(name) {
        return Err(AuthError::WeakPassword("it is the operator's name".into()));
    }
    Ok(())
}

/// An argon2id hash (default parameters: 19 MiB, 2 passes) with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (parameters come from the string).
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A random password for a new operator: 16 characters from an alphabet without look-alikes
/// (about 90 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn get_in(txn: &WriteTransaction, name: &str) -> Result<Option<OperatorRecord>, AuthError> {
    let table = txn.open_table(OPERATORS)?;
    let value = table.get(name)?;
    Ok(match value {
        Some(v) => Some(decode("operators", v.value())?),
        None => None,
    })
}

fn put_in(txn: &WriteTransaction, rec: &OperatorRecord) -> Result<(), AuthError> {
    txn.open_table(OPERATORS)?
        .insert(rec.name.as_str(), encode(rec).as_slice())?;
    Ok(())
}

fn all_in(txn: &WriteTransaction) -> Result<Vec<OperatorRecord>, AuthError> {
    let table = txn.open_table(OPERATORS)?;
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode("operators", v.value())?);
    }
    Ok(out)
}

/// Refuses a change that would leave no enabled admin.
fn keep_an_admin(
    txn: &WriteTransaction,
    name: &str,
    after: &OperatorRecord,
) -> Result<(), AuthError> {
    let still_admin = |r: &OperatorRecord| r.role == Role::Admin && !r.disabled;
    let others = all_in(txn)?
        .iter()
        .filter(|r| r.name != name && still_admin(r))
        .count();
    if others == 0 && !still_admin(after) {
        return Err(AuthError::LastAdmin(name.to_string()));
    }
    Ok(())
}

/// Reads one operator.
pub fn get(store: &Store, name: &str) -> Result<Option<OperatorRecord>, AuthError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(OPERATORS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let value = table.get(name)?;
    Ok(match value {
        Some(v) => Some(decode("operators", v.value())?),
        None => None,
    })
}

/// All operators, by name.
pub fn list(store: &Store) -> Result<Vec<OperatorView>, AuthError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(OPERATORS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        let rec: OperatorRecord = decode("operators", v.value())?;
        out.push(OperatorView::from(&rec));
    }
    Ok(out)
}

/// Adds an operator who must change the password at first login.
pub fn add(
    store: &Store,
    actor: &Actor,
    name: &str,
    role: Role,
    password: &str,
) -> Result<(), AuthError> {
    add_at(store, actor, name, role, password, Timestamp::now())
}

/// [`add`] with an explicit clock.
pub fn add_at(
    store: &Store,
    actor: &Actor,
    name: &str,
    role: Role,
    password: &str,
    now: Timestamp,
) -> Result<(), AuthError> {
    require(actor, Permission::ManageOperators, "add operators")?;
    check_name(name)?;
    check_password(name, password)?;
    let password_hash = hash_password(password)?;
    let (actor, name) = (actor.clone(), name.to_string());
    store.write(move |txn| {
        if get_in(txn, &name)?.is_some() {
            return Err(AuthError::Exists(name.clone()));
        }
        let rec = OperatorRecord {
            name: name.clone(),
            role,
            password_hash: password_hash.clone(),
            must_change_password: true,
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
            password_changed_at: now,
            last_login: None,
        };
        put_in(txn, &rec)?;
        append_in(
            txn,
            &actor,
            "operator.add",
            json!({ "name": name, "role": role }),
        )?;
        Ok(())
    })
}

/// Changes a password. An operator changing their own password must give the current one
/// (`current`) and is then free of `must_change_password`; an admin (or the local command
/// line) resetting someone's password needs no current password, sets
/// `must_change_password` and lifts any lockout.
pub fn change_password(
    store: &Store,
    actor: &Actor,
    name: &str,
    current: Option<&str>,
    new: &str,
    now: Timestamp,
) -> Result<(), AuthError> {
    let own = matches!(actor, Actor::Operator { name: n, .. } if n == name);
    if !own {
        require(
            actor,
            Permission::ManageOperators,
            "reset other operators' passwords",
        )?;
    }
    check_password(name, new)?;
    let before = get(store, name)?.ok_or_else(|| AuthError::NotFound(name.to_string()))?;
    if own {
        let ok = current.is_some_and(|c| verify_password(c, &before.password_hash));
        if !ok {
            return Err(AuthError::WrongCurrentPassword);
        }
        if verify_password(new, &before.password_hash) {
            return Err(AuthError::WeakPassword(
                "it is the same as the current password".into(),
            ));
        }
    }
    let password_hash = hash_password(new)?;
    let (actor, name) = (actor.clone(), name.to_string());
    store.write(move |txn| {
        let mut rec = get_in(txn, &name)?.ok_or_else(|| AuthError::NotFound(name.clone()))?;
        rec.password_hash = password_hash.clone();
        rec.password_changed_at = now;
        rec.must_change_password = !own;
        if !own {
            rec.failed_logins = 0;
            rec.locked_until = None;
        }
        put_in(txn, &rec)?;
        append_in(
            txn,
            &actor,
            if own {
                "operator.password_change"
            } else {
                "operator.password_reset"
            },
            json!({ "name": name }),
        )?;
        // A new password ends every session of the old one.
        revoke_all_in(txn, &name)?;
        Ok(())
    })
}

/// Disables or re-enables an operator; disabling ends their sessions.
pub fn set_disabled(
    store: &Store,
    actor: &Actor,
    name: &str,
    disabled: bool,
) -> Result<(), AuthError> {
    let (actor, name) = (actor.clone(), name.to_string());
    store.write(move |txn| set_disabled_in(txn, &actor, &name, disabled))
}

/// [`set_disabled`] inside the caller's write transaction (with its audit entry).
pub fn set_disabled_in(
    txn: &WriteTransaction,
    actor: &Actor,
    name: &str,
    disabled: bool,
) -> Result<(), AuthError> {
    require(actor, Permission::ManageOperators, "disable operators")?;
    let mut rec = get_in(txn, name)?.ok_or_else(|| AuthError::NotFound(name.to_string()))?;
    rec.disabled = disabled;
    keep_an_admin(txn, name, &rec)?;
    put_in(txn, &rec)?;
    append_in(
        txn,
        actor,
        if disabled {
            "operator.disable"
        } else {
            "operator.enable"
        },
        json!({ "name": name }),
    )?;
    if disabled {
        revoke_all_in(txn, name)?;
    }
    Ok(())
}

/// Changes an operator's role.
pub fn set_role(store: &Store, actor: &Actor, name: &str, role: Role) -> Result<(), AuthError> {
    let (actor, name) = (actor.clone(), name.to_string());
    store.write(move |txn| set_role_in(txn, &actor, &name, role))
}

/// [`set_role`] inside the caller's write transaction (with its audit entry).
pub fn set_role_in(
    txn: &WriteTransaction,
    actor: &Actor,
    name: &str,
    role: Role,
) -> Result<(), AuthError> {
    require(actor, Permission::ManageOperators, "change roles")?;
    let mut rec = get_in(txn, name)?.ok_or_else(|| AuthError::NotFound(name.to_string()))?;
    let from = rec.role;
    rec.role = role;
    keep_an_admin(txn, name, &rec)?;
    put_in(txn, &rec)?;
    append_in(
        txn,
        actor,
        "operator.role",
        json!({ "name": name, "from": from, "to": role }),
    )?;
    Ok(())
}

/// Checks a name and password at `now`. After [`MAX_FAILED_LOGINS`] failures in a row the
/// operator is locked out for [`LOCKOUT`]; the count and the lock are stored, so restarting
/// the daemon does not reset them. Every attempt is audited.
pub fn login(
    store: &Store,
    name: &str,
    password: &str,
    now: Timestamp,
) -> Result<Session, AuthError> {
    let who = Actor::system("auth");
    let Some(rec) = get(store, name)? else {
        // Spend the same time as a real check so names cannot be probed by timing.
        let _ = verify_password(password, dummy_hash());
        audit_only(
            store,
            &who,
            "operator.login_failed",
            json!({ "name": name, "why": "unknown name" }),
        )?;
        return Err(AuthError::BadCredentials);
    };
    if rec.disabled {
        audit_only(
            store,
            &who,
            "operator.login_refused",
            json!({ "name": name, "why": "disabled" }),
        )?;
        return Err(AuthError::Disabled(name.to_string()));
    }
    if let Some(until) = rec.locked_until.filter(|u| *u > now) {
        audit_only(
            store,
            &who,
            "operator.login_refused",
            json!({ "name": name, "why": "locked", "until": until }),
        )?;
        return Err(AuthError::Locked {
            name: name.to_string(),
            until,
        });
    }
    let good = verify_password(password, &rec.password_hash);

    // Re-read inside the write: a concurrent attempt may have locked the operator meanwhile.
    // A refused login is still committed (its failure count and audit entry), so the
    // closure answers Ok(the login's outcome); only a store failure is its Err.
    let name = name.to_string();
    store.write(move |txn| {
        let mut rec = get_in(txn, &name)?.ok_or_else(|| AuthError::NotFound(name.clone()))?;
        if let Some(until) = rec.locked_until.filter(|u| *u > now) {
            // Err: nothing of this transaction is written.
            return Err(AuthError::Locked {
                name: name.clone(),
                until,
            });
        }
        let result = if good {
            rec.failed_logins = 0;
            rec.locked_until = None;
            rec.last_login = Some(now);
            append_in(
                txn,
                &Actor::operator(&name, rec.role),
                "operator.login",
                json!({ "name": name }),
            )?;
            Ok(Session {
                name: rec.name.clone(),
                role: rec.role,
                must_change_password: rec.must_change_password,
            })
        } else {
            rec.failed_logins += 1;
            if rec.failed_logins >= MAX_FAILED_LOGINS {
                let until = now
                    .checked_add(LOCKOUT)
                    .map_err(|e| AuthError::Time(e.to_string()))?;
                rec.failed_logins = 0;
                rec.locked_until = Some(until);
                append_in(
                    txn,
                    &who,
                    "operator.locked",
                    json!({ "name": name, "until": until, "after_failures": MAX_FAILED_LOGINS }),
                )?;
                Err(AuthError::Locked {
                    name: name.clone(),
                    until,
                })
            } else {
                append_in(
                    txn,
                    &who,
                    "operator.login_failed",
                    json!({ "name": name, "why": "wrong password", "failures": rec.failed_logins }),
                )?;
                Err(AuthError::BadCredentials)
            }
        };
        put_in(txn, &rec)?;
        Ok(result)
    })?
}

/// A real argon2id hash of a random password, made once, so that logins with an unknown
/// name take as long as real ones.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&generate_password()).unwrap_or_default())
}

fn audit_only(
    store: &Store,
    actor: &Actor,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), AuthError> {
    let (actor, action) = (actor.clone(), action.to_string());
    store.write(move |txn| {
        append_in(txn, &actor, &action, detail.clone())?;
        Ok(())
    })
}

fn token_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues an API token for a logged-in session: 32 random bytes as hex, returned once;
/// only its SHA-256 is stored (a stolen database yields no usable tokens).
pub fn issue_token(
    store: &Store,
    session: &Session,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    let token = hex::encode(bytes);
    let expires_at = now
        .checked_add(ttl)
        .map_err(|e| AuthError::Time(e.to_string()))?;
    let rec = SessionRecord {
        name: session.name.clone(),
        issued_at: now,
        expires_at,
    };
    let (key, actor, name) = (token_key(&token), session.actor(), session.name.clone());
    store.write(move |txn| {
        txn.open_table(SESSIONS)?
            .insert(key.as_str(), encode(&rec).as_slice())?;
        append_in(
            txn,
            &actor,
            "operator.session_start",
            json!({ "name": name, "expires_at": expires_at }),
        )?;
        Ok::<_, AuthError>(())
    })?;
    Ok(token)
}

/// The session a token belongs to, with the operator's current role. Refused when the token
/// is unknown, expired or revoked, or the operator is disabled or gone.
pub fn check_token(store: &Store, token: &str, now: Timestamp) -> Result<Session, AuthError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(SESSIONS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Err(AuthError::BadToken),
        Err(e) => return Err(e.into()),
    };
    let value = table.get(token_key(token).as_str())?;
    let Some(v) = value else {
        return Err(AuthError::BadToken);
    };
    let rec: SessionRecord = decode("sessions", v.value())?;
    if rec.expires_at <= now {
        return Err(AuthError::BadToken);
    }
    drop(txn);
    match get(store, &rec.name)? {
        Some(op) if !op.disabled => Ok(Session {
            name: op.name,
            role: op.role,
            must_change_password: op.must_change_password,
        }),
        _ => Err(AuthError::BadToken),
    }
}

/// Ends one session (logout).
pub fn revoke_token(store: &Store, token: &str) -> Result<(), AuthError> {
    let token = token.to_string();
    store.write(move |txn| revoke_token_in(txn, &token))
}

/// [`revoke_token`] inside the caller's write transaction (with its audit entry).
pub fn revoke_token_in(txn: &WriteTransaction, token: &str) -> Result<(), AuthError> {
    let removed = txn
        .open_table(SESSIONS)?
        .remove(token_key(token).as_str())?
        .map(|v| decode::<SessionRecord>("sessions", v.value()))
        .transpose()?;
    if let Some(rec) = removed {
        append_in(
            txn,
            &Actor::system("auth"),
            "operator.session_end",
            json!({ "name": rec.name }),
        )?;
    }
    Ok(())
}

fn revoke_all_in(txn: &WriteTransaction, name: &str) -> Result<(), AuthError> {
    let mut table = txn.open_table(SESSIONS)?;
    let mut keys = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        let rec: SessionRecord = decode("sessions", v.value())?;
        if rec.name == name {
            keys.push(k.value().to_string());
        }
    }
    for k in keys {
        table.remove(k.as_str())?;
    }
    Ok(())
}

/// Removes expired sessions; returns how many. Housekeeping, not audited.
pub fn purge_expired(store: &Store, now: Timestamp) -> Result<usize, AuthError> {
    store.write(move |txn| {
        let mut table = txn.open_table(SESSIONS)?;
        let mut keys = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            let rec: SessionRecord = decode("sessions", v.value())?;
            if rec.expires_at <= now {
                keys.push(k.value().to_string());
            }
        }
        for k in &keys {
            table.remove(k.as_str())?;
        }
        Ok(keys.len())
    })
}
