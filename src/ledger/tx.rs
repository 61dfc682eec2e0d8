//! The ledger's view of one write transaction: its tables held open for the whole batch,
//! typed reads, and the bookkeeping for the per-commit invariant check.

use crate::ledger::LedgerError;
use crate::ledger::tables::*;
use crate::ledger::types::{MeterAccountView, Operation, TenantAccount};
use crate::site::{MeterId, TenantId};
use crate::store::{decode, encode};
use crate::units::Fen;
use redb::{ReadableTable, Table, WriteTransaction};
use std::collections::BTreeMap;

pub(crate) struct Tx<'t> {
    pub txn: &'t WriteTransaction,
    pub accounts: Table<'t, &'static str, i64>,
    pub ops: Table<'t, u64, &'static [u8]>,
    pub keys: Table<'t, &'static str, &'static [u8]>,
    pub tenants: Table<'t, &'static str, &'static [u8]>,
    pub meters: Table<'t, &'static str, &'static [u8]>,
    pub readings: Table<'t, &'static str, u64>,
    pub reversed: Table<'t, u64, u64>,
    pub tenant_ops: Table<'t, (&'static str, u64), ()>,
    /// The hoarding cap in force for this batch.
    pub cap: Option<Fen>,
    /// account → (balance before this batch, sum of this batch's postings), for the
    /// per-commit invariant check.
    pub touched: BTreeMap<String, (i64, i64)>,
}

impl<'t> Tx<'t> {
    pub fn new(txn: &'t WriteTransaction, cap: Option<Fen>) -> Result<Tx<'t>, LedgerError> {
        Ok(Tx {
            txn,
            accounts: txn.open_table(ACCOUNTS)?,
            ops: txn.open_table(OPS)?,
            keys: txn.open_table(KEYS)?,
            tenants: txn.open_table(TENANTS)?,
            meters: txn.open_table(METERS)?,
            readings: txn.open_table(READINGS)?,
            reversed: txn.open_table(REVERSED)?,
            tenant_ops: txn.open_table(TENANT_OPS)?,
            cap,
            touched: BTreeMap::new(),
        })
    }

    pub fn balance(&self, account: &str) -> Result<i64, LedgerError> {
        Ok(self.accounts.get(account)?.map_or(0, |v| v.value()))
    }

    pub fn key(&self, key: &str) -> Result<Option<KeyRecord>, LedgerError> {
        match self.keys.get(key)? {
            Some(v) => Ok(Some(decode("ledger_keys", v.value())?)),
            None => Ok(None),
        }
    }

    pub fn tenant(&self, t: &TenantId) -> Result<Option<TenantAccount>, LedgerError> {
        match self.tenants.get(t.as_str())? {
            Some(v) => Ok(Some(decode("ledger_tenants", v.value())?)),
            None => Ok(None),
        }
    }

    /// The tenant's account, which must exist and be open.
    pub fn open_tenant(&self, t: &TenantId) -> Result<TenantAccount, LedgerError> {
        let acc = self
            .tenant(t)?
            .ok_or_else(|| LedgerError::NoAccount(t.clone()))?;
        if acc.status != crate::ledger::AccountStatus::Open {
            return Err(LedgerError::AccountClosed(t.clone()));
        }
        Ok(acc)
    }

    pub fn meter(&self, m: &MeterId) -> Result<Option<MeterAccountView>, LedgerError> {
        match self.meters.get(m.as_str())? {
            Some(v) => Ok(Some(decode("ledger_meters", v.value())?)),
            None => Ok(None),
        }
    }

    pub fn op(&self, id: u64) -> Result<Option<Operation>, LedgerError> {
        match self.ops.get(id)? {
            Some(v) => Ok(Some(decode("ledger_ops", v.value())?)),
            None => Ok(None),
        }
    }

    pub fn next_op_id(&self) -> Result<u64, LedgerError> {
        Ok(self.ops.last()?.map_or(1, |(k, _)| k.value() + 1))
    }

    pub fn put_tenant(&mut self, acc: &TenantAccount) -> Result<(), LedgerError> {
        self.tenants
            .insert(acc.tenant.as_str(), encode(acc).as_slice())?;
        Ok(())
    }

    pub fn put_meter(&mut self, m: &MeterAccountView) -> Result<(), LedgerError> {
        self.meters.insert(m.meter.as_str(), encode(m).as_slice())?;
        Ok(())
    }

    /// Records one posting for the invariant check (independently of the balance writes).
    pub fn note_posting(&mut self, account: &str, amount: i64) -> Result<(), LedgerError> {
        if !self.touched.contains_key(account) {
            let before = self.balance(account)?;
            self.touched.insert(account.to_string(), (before, 0));
        }
        if let Some(entry) = self.touched.get_mut(account) {
            entry.1 += amount;
        }
        Ok(())
    }

    /// After every operation, before its commit: each touched balance moved by exactly the
    /// postings recorded, and those postings sum to zero, so the sum of all balances (zero
    /// for an empty ledger) stays zero. `Ledger::verify` re-checks the whole ledger.
    pub fn check_invariants(&self) -> Result<(), LedgerError> {
        let mut sum: i128 = 0;
        for (account, (before, delta)) in &self.touched {
            let now = self.balance(account)?;
            if now != before + delta {
                return Err(LedgerError::Invariant(format!(
                    "account {account} is {now} fen but its postings make it {}",
                    before + delta
                )));
            }
            sum += i128::from(*delta);
        }
        if sum != 0 {
            return Err(LedgerError::Invariant(format!(
                "the postings of one operation sum to {sum} fen, not zero"
            )));
        }
        Ok(())
    }
}
