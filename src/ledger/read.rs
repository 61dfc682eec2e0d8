//! Reads (each in its own read transaction, never blocking the writer) and `verify`.

use crate::ledger::LedgerError;
use crate::ledger::tables::*;
use crate::ledger::types::*;
use crate::site::{MeterId, TenantId};
use crate::store::{Store, decode};
use crate::units::{Fen, SUBFEN_PER_FEN};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable};
use std::collections::{BTreeMap, HashMap};

fn begin(store: &Store) -> Result<ReadTransaction, LedgerError> {
    Ok(store.db().begin_read()?)
}

fn meter_in(txn: &ReadTransaction, m: &MeterId) -> Result<Option<MeterAccountView>, LedgerError> {
    let t = txn.open_table(METERS)?;
    let v = t.get(m.as_str())?;
    Ok(v.map(|v| decode("ledger_meters", v.value())).transpose()?)
}

pub fn account(store: &Store, tenant: &TenantId) -> Result<Option<AccountView>, LedgerError> {
    let txn = begin(store)?;
    let acc: TenantAccount = match txn.open_table(TENANTS)?.get(tenant.as_str())? {
        Some(v) => decode("ledger_tenants", v.value())?,
        None => return Ok(None),
    };
    let balance = txn
        .open_table(ACCOUNTS)?
        .get(tenant_account(tenant).as_str())?
        .map_or(0, |v| v.value());
    let mut meters = Vec::with_capacity(acc.meters.len());
    for id in &acc.meters {
        if let Some(m) = meter_in(&txn, id)?
            && m.tenant == *tenant
        {
            meters.push(m);
        }
    }
    Ok(Some(AccountView {
        tenant: acc.tenant,
        balance: Fen(balance),
        status: acc.status,
        meters,
    }))
}

/// Every account `tenant` has had, oldest first: the closed ones, then the current one. The
/// operations of each are the tenant's operations from its `opened_op` to its `closed_op`.
pub fn accounts_of(store: &Store, tenant: &TenantId) -> Result<Vec<TenantAccount>, LedgerError> {
    let txn = begin(store)?;
    let mut out = Vec::new();
    match txn.open_table(CLOSED_ACCOUNTS) {
        Ok(t) => {
            for row in t.range((tenant.as_str(), 0)..=(tenant.as_str(), u64::MAX))? {
                out.push(decode("ledger_closed_accounts", row?.1.value())?);
            }
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(v) = txn.open_table(TENANTS)?.get(tenant.as_str())? {
        out.push(decode("ledger_tenants", v.value())?);
    }
    Ok(out)
}

/// The tenants whose account is closed now (not opened again): no balance alarm, no SMS.
pub fn closed_tenants(store: &Store) -> Result<std::collections::HashSet<TenantId>, LedgerError> {
    let txn = begin(store)?;
    let mut out = std::collections::HashSet::new();
    let tenants = match txn.open_table(TENANTS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    for row in tenants.iter()? {
        let acc: TenantAccount = decode("ledger_tenants", row?.1.value())?;
        if acc.status == AccountStatus::Closed {
            out.insert(acc.tenant);
        }
    }
    Ok(out)
}

pub fn meter_account(store: &Store, m: &MeterId) -> Result<Option<MeterAccountView>, LedgerError> {
    meter_in(&begin(store)?, m)
}

/// Every account and its balance, by name.
pub fn balances(store: &Store) -> Result<BTreeMap<String, Fen>, LedgerError> {
    let txn = begin(store)?;
    let mut out = BTreeMap::new();
    for row in txn.open_table(ACCOUNTS)?.iter()? {
        let (k, v) = row?;
        out.insert(k.value().to_string(), Fen(v.value()));
    }
    Ok(out)
}

pub fn operation(store: &Store, id: u64) -> Result<Option<Operation>, LedgerError> {
    let txn = begin(store)?;
    let v = txn.open_table(OPS)?.get(id)?;
    Ok(v.map(|v| decode("ledger_ops", v.value())).transpose()?)
}

/// The first answer given for `key`, if an operation was recorded with it.
pub fn receipt_for_key(store: &Store, key: &str) -> Result<Option<OpReceipt>, LedgerError> {
    let txn = begin(store)?;
    let v = txn.open_table(KEYS)?.get(key)?;
    let rec: Option<KeyRecord> = v.map(|v| decode("ledger_keys", v.value())).transpose()?;
    Ok(rec.map(|r| r.receipt))
}

pub fn operations(store: &Store, filter: &OpFilter) -> Result<Vec<Operation>, LedgerError> {
    let txn = begin(store)?;
    let ops = txn.open_table(OPS)?;
    let after = filter.after.unwrap_or(0);
    let limit = filter.limit.unwrap_or(usize::MAX);
    let keep = |op: &Operation| filter.kind.is_none_or(|k| op.detail.kind() == k);
    let mut out = Vec::new();
    match &filter.tenant {
        Some(t) => {
            let index = txn.open_table(TENANT_OPS)?;
            let range =
                index.range((t.as_str(), after.saturating_add(1))..=(t.as_str(), u64::MAX))?;
            let ids: Box<dyn Iterator<Item = _>> = if filter.newest_first {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
            for row in ids {
                if out.len() >= limit {
                    break;
                }
                let id = row?.0.value().1;
                let v = ops.get(id)?.ok_or(LedgerError::NoOperation(id))?;
                let op: Operation = decode("ledger_ops", v.value())?;
                if keep(&op) {
                    out.push(op);
                }
            }
        }
        None => {
            let range = ops.range(after.saturating_add(1)..)?;
            let rows: Box<dyn Iterator<Item = _>> = if filter.newest_first {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
            for row in rows {
                if out.len() >= limit {
                    break;
                }
                let op: Operation = decode("ledger_ops", row?.1.value())?;
                if keep(&op) {
                    out.push(op);
                }
            }
        }
    }
    Ok(out)
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub operations: u64,
    pub postings: u64,
    pub accounts: u64,
    /// Sum of every account's balance (zero in a sound ledger).
    pub total: Fen,
    /// One line per broken invariant; empty when the ledger is sound.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks every invariant over the whole store (see docs/ledger.md).
pub fn verify(store: &Store) -> Result<VerifyReport, LedgerError> {
    let txn = begin(store)?;
    let mut report = VerifyReport::default();
    let mut problems = Vec::new();
    let keys = txn.open_table(KEYS)?;
    let reversed = txn.open_table(REVERSED)?;
    let readings = txn.open_table(READINGS)?;
    let mut sums: HashMap<String, i128> = HashMap::new();
    let mut reversal_of: HashMap<u64, u64> = HashMap::new();
    let mut unsettled: BTreeMap<u64, (TenantId, Fen)> = BTreeMap::new();
    let mut kinds: HashMap<u64, OpKind> = HashMap::new();
    for row in txn.open_table(OPS)?.iter()? {
        let (k, v) = row?;
        let id = k.value();
        let op: Operation = decode("ledger_ops", v.value())?;
        report.operations += 1;
        if op.id != id {
            problems.push(format!("operation stored under {id} says it is {}", op.id));
        }
        let mut sum: i128 = 0;
        for p in &op.postings {
            report.postings += 1;
            sum += i128::from(p.amount.0);
            *sums.entry(p.account.clone()).or_default() += i128::from(p.amount.0);
        }
        if sum != 0 {
            problems.push(format!(
                "operation {id}: postings sum to {sum} fen, not zero"
            ));
        }
        match keys.get(op.key.as_str())? {
            Some(v) => {
                let rec: KeyRecord = decode("ledger_keys", v.value())?;
                if rec.receipt.op != id {
                    problems.push(format!(
                        "operation {id}: its key '{}' answers with operation {}",
                        op.key, rec.receipt.op
                    ));
                }
            }
            None => problems.push(format!("operation {id}: key '{}' is not recorded", op.key)),
        }
        kinds.insert(id, op.detail.kind());
        match &op.detail {
            OpDetail::Reverse { op: target, .. } => {
                if let Some(first) = reversal_of.insert(*target, id) {
                    problems.push(format!(
                        "operation {target} is reversed twice (by {first} and {id})"
                    ));
                }
                match reversed.get(*target)? {
                    Some(by) if by.value() == id => {}
                    _ => problems.push(format!(
                        "reversal {id} of operation {target} is missing from the reversal index"
                    )),
                }
            }
            OpDetail::Refund {
                amount,
                withdraw: Some(_),
                ..
            } => {
                let tenant = op.tenant.clone().unwrap_or_else(|| TenantId::new(""));
                unsettled.insert(id, (tenant, *amount));
            }
            OpDetail::RefundSettled { refund_op, .. } if unsettled.remove(refund_op).is_none() => {
                problems.push(format!(
                    "operation {id} settles {refund_op}, which is no refund waiting for its meter"
                ));
            }
            OpDetail::Consumption { reading_key, .. } => {
                match readings.get(reading_key.as_str())? {
                    Some(r) if r.value() == id => {}
                    _ => problems.push(format!(
                        "consumption {id}: reading '{reading_key}' does not point back to it"
                    )),
                }
            }
            _ => {}
        }
    }
    // Refunds waiting for their meter: the index lists exactly the unsettled ones, and
    // `refunds_pending` holds exactly their money.
    let mut indexed = std::collections::BTreeSet::new();
    if let Ok(t) = txn.open_table(PENDING_REFUNDS) {
        for row in t.iter()? {
            let (k, _) = row?;
            let (tenant, op) = k.value();
            indexed.insert((tenant.to_string(), op));
        }
    }
    let waiting: std::collections::BTreeSet<(String, u64)> = unsettled
        .iter()
        .map(|(op, (t, _))| (t.to_string(), *op))
        .collect();
    if indexed != waiting {
        problems.push(format!(
            "pending refunds index {indexed:?} disagrees with the unsettled refunds {waiting:?}"
        ));
    }
    let held: i128 = unsettled.values().map(|(_, a)| i128::from(a.0)).sum();
    let pending_balance = sums.get(REFUNDS_PENDING).copied().unwrap_or(0);
    if held != pending_balance {
        problems.push(format!(
            "{REFUNDS_PENDING} holds {pending_balance} fen but the unsettled refunds are {held} fen"
        ));
    }
    for (target, rev) in &reversal_of {
        match kinds.get(target) {
            Some(OpKind::Sale | OpKind::Refund) => {}
            Some(k) => problems.push(format!("reversal {rev} undoes {k} {target}")),
            None => problems.push(format!("reversal {rev} undoes missing operation {target}")),
        }
    }
    let mut total: i128 = 0;
    let accounts = txn.open_table(ACCOUNTS)?;
    for row in accounts.iter()? {
        let (k, v) = row?;
        report.accounts += 1;
        let name = k.value();
        let balance = i128::from(v.value());
        total += balance;
        let posted = sums.remove(name).unwrap_or(0);
        if posted != balance {
            problems.push(format!(
                "account {name}: balance {balance} fen but its postings sum to {posted} fen"
            ));
        }
    }
    for (name, posted) in sums {
        problems.push(format!(
            "account {name}: postings of {posted} fen but no balance"
        ));
    }
    if total != 0 {
        problems.push(format!("all balances sum to {total} fen, not zero"));
    }
    report.total = Fen(i64::try_from(total).unwrap_or(i64::MAX));
    let meters = txn.open_table(METERS)?;
    for row in txn.open_table(TENANTS)?.iter()? {
        let acc: TenantAccount = decode("ledger_tenants", row?.1.value())?;
        let balance = accounts
            .get(tenant_account(&acc.tenant).as_str())?
            .map_or(0, |v| v.value());
        if acc.status == AccountStatus::Closed && balance != 0 {
            problems.push(format!(
                "tenant {}: closed with balance {balance} fen",
                acc.tenant
            ));
        }
        for m in &acc.meters {
            if meters.get(m.as_str())?.is_none() {
                problems.push(format!("tenant {}: meter {m} has no account", acc.tenant));
            }
        }
    }
    for row in meters.iter()? {
        let m: MeterAccountView = decode("ledger_meters", row?.1.value())?;
        if !(0..SUBFEN_PER_FEN).contains(&m.carry.0) {
            problems.push(format!(
                "meter {}: carried remainder {} is not below one fen",
                m.meter, m.carry.0
            ));
        }
    }
    report.problems = problems;
    Ok(report)
}

/// Refunds waiting for their withdrawal from a meter-mode meter (the pending-refunds index),
/// oldest first.
pub fn pending_refunds(store: &Store) -> Result<Vec<Operation>, LedgerError> {
    let txn = begin(store)?;
    let index = match txn.open_table(PENDING_REFUNDS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let ops = txn.open_table(OPS)?;
    let mut out = Vec::new();
    for row in index.iter()? {
        let (k, _) = row?;
        let (_, op) = k.value();
        if let Some(v) = ops.get(op)? {
            out.push(decode("ledger_ops", v.value())?);
        }
    }
    out.sort_by_key(|o: &Operation| o.id);
    Ok(out)
}
