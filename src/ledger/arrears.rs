//! Arrears trips, decided on the ledger's own tables.
//!
//! The control queue enforces arrears on host-billed meters, but whether a meter stands in
//! arrears (its tenant's balance, whether the ledger already marked it tripped or closed)
//! is ledger data. So the control queue asks here for the candidates and requests each trip
//! here: the ledger re-checks the standing, marks the meter tripped (a later sale then
//! queues the matching close), pushes the trip to the outbox and appends the audit entry,
//! all in one transaction on the store writer.

use crate::auth::{Actor, audit};
use crate::ledger::LedgerError;
use crate::ledger::outbox::{self, MeterCommand};
use crate::ledger::tables::{ACCOUNTS, METERS, tenant_account};
use crate::ledger::types::MeterAccountView;
use crate::site::{MeterId, TenantId};
use crate::store::{Store, StoreError, decode, encode};
use crate::units::Fen;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

/// Whether an account with `balance` stands in arrears: the one meaning of zero (balance ≤ 0,
/// see docs/ledger.md "Zero balance"). Alarms, reports, trips, the tenant API and the
/// control queue all ask here; the console asks [`voltvend_api_types::in_arrears`], which
/// this calls.
pub fn in_arrears(balance: Fen) -> bool {
    voltvend_api_types::in_arrears(balance.0)
}

/// A meter whose tenant is in arrears, as the ledger sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub meter: MeterId,
    pub tenant: TenantId,
    /// The tenant's balance in fen (≤ 0).
    pub balance: i64,
    /// The ledger's mark: the host's last relay command for it was an arrears trip that no
    /// sale has closed yet. Not the relay's state: the control queue asks the meter for that.
    pub tripped: bool,
}

/// The standing of each of `meters` whose tenant is in arrears: not closed, and its tenant's
/// balance in arrears and at or below `-floor`. Whether its relay is still on is for the
/// caller to judge from the meter (see `control::arrears_trip_due`). One read transaction;
/// nothing is written.
pub fn due(store: &Store, meters: &[MeterId], floor: Fen) -> Result<Vec<Standing>, LedgerError> {
    let txn = store.db().begin_read().map_err(StoreError::from)?;
    let (meters_t, accounts) = match (txn.open_table(METERS), txn.open_table(ACCOUNTS)) {
        (Ok(m), Ok(a)) => (m, a),
        (Err(redb::TableError::TableDoesNotExist(_)), _)
        | (_, Err(redb::TableError::TableDoesNotExist(_))) => return Ok(Vec::new()),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for m in meters {
        if let Some(s) = standing(&meters_t, &accounts, m, floor)? {
            out.push(s);
        }
    }
    Ok(out)
}

/// Trips `meter` for arrears if its tenant is still in arrears (checked again inside the
/// transaction, so a sale in between is respected) and `veto` does not refuse it. `queued` runs in the same
/// transaction with the outbox id, for the caller's own record of the command. Returns the
/// standing and the outbox id, or `None` when nothing was done.
pub fn trip<V, Q>(
    store: &Store,
    meter: &MeterId,
    floor: Fen,
    actor: &Actor,
    mut veto: V,
    mut queued: Q,
) -> Result<Option<(Standing, u64)>, LedgerError>
where
    V: FnMut(&WriteTransaction, &Standing) -> Result<bool, StoreError> + Send + 'static,
    Q: FnMut(&WriteTransaction, &Standing, u64) -> Result<(), StoreError> + Send + 'static,
{
    let meter = meter.clone();
    let actor = actor.clone();
    store.write(move |txn| {
        let due = standing(
            &txn.open_table(METERS)?,
            &txn.open_table(ACCOUNTS)?,
            &meter,
            floor,
        )?;
        let Some(s) = due else {
            return Ok(None);
        };
        if veto(txn, &s)? {
            return Ok(None);
        }
        set_tripped_in(txn, &s.meter, true)?;
        let outbox = outbox::push_in(txn, &s.meter, MeterCommand::Trip, 0)?;
        queued(txn, &s, outbox)?;
        audit::append_in(
            txn,
            &actor,
            "control.arrears_trip",
            serde_json::json!({"meter": s.meter.as_str(), "tenant": s.tenant.as_str(),
                "balance_fen": s.balance, "outbox": outbox}),
        )?;
        Ok(Some((s, outbox)))
    })
}

fn standing(
    meters_t: &impl ReadableTable<&'static str, &'static [u8]>,
    accounts: &impl ReadableTable<&'static str, i64>,
    meter: &MeterId,
    floor: Fen,
) -> Result<Option<Standing>, LedgerError> {
    let view: Option<MeterAccountView> = match meters_t.get(meter.as_str())? {
        Some(v) => Some(decode("ledger_meters", v.value())?),
        None => None,
    };
    let Some(v) = view.filter(|v| !v.closed) else {
        return Ok(None);
    };
    let balance = accounts
        .get(tenant_account(&v.tenant).as_str())?
        .map(|b| b.value());
    Ok(balance
        .filter(|b| *b <= -floor.0 && in_arrears(Fen(*b)))
        .map(|balance| Standing {
            meter: meter.clone(),
            tenant: v.tenant.clone(),
            balance,
            tripped: v.tripped,
        }))
}

/// Marks a meter's relay as tripped (or closed) by the host, inside `txn`.
pub(crate) fn set_tripped_in(
    txn: &WriteTransaction,
    meter: &MeterId,
    tripped: bool,
) -> Result<(), LedgerError> {
    let mut table = txn.open_table(METERS)?;
    let current: Option<MeterAccountView> = match table.get(meter.as_str())? {
        Some(v) => Some(decode("ledger_meters", v.value())?),
        None => None,
    };
    let mut m = current.ok_or_else(|| LedgerError::NoMeter(meter.clone()))?;
    m.tripped = tripped;
    table.insert(meter.as_str(), encode(&m).as_slice())?;
    Ok(())
}
