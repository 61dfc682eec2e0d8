//! Bearer tokens for logged-in operators and tenants. Tokens are 256-bit random, kept in
//! memory only (a restart logs everyone out, which is the safe direction) and expire after
//! a period without use.

use crate::auth::{Actor, Role};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Operator {
        name: String,
        role: Role,
        must_change_password: bool,
    },
    Tenant {
        tenant: String,
        unit: String,
    },
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Operator { name, role, .. } => Actor::operator(name, *role),
            Principal::Tenant { tenant, .. } => Actor::Tenant {
                tenant: tenant.clone(),
            },
        }
    }
}

struct Entry {
    who: Principal,
    last_used: Instant,
    idle_limit: Duration,
}

/// The token table.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
}

/// Operators stay logged in for 8 idle hours (a shift), tenants for 10 idle minutes.
pub const OPERATOR_IDLE: Duration = Duration::from_secs(8 * 3600);
pub const TENANT_IDLE: Duration = Duration::from_secs(600);

impl Sessions {
    pub fn issue(&self, who: Principal) -> String {
        let token = hex::encode(rand::random::<[u8; 32]>());
        let idle_limit = match who {
            Principal::Operator { .. } => OPERATOR_IDLE,
            Principal::Tenant { .. } => TENANT_IDLE,
        };
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Drop expired tokens as we go so the table stays small.
        m.retain(|_, e| e.last_used.elapsed() < e.idle_limit);
        m.insert(
            token.clone(),
            Entry {
                who,
                last_used: Instant::now(),
                idle_limit,
            },
        );
        token
    }

    /// The principal behind `token`, refreshing its idle timer.
    pub fn check(&self, token: &str) -> Option<Principal> {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let e = m.get_mut(token)?;
        if e.last_used.elapsed() >= e.idle_limit {
            m.remove(token);
            return None;
        }
        e.last_used = Instant::now();
        Some(e.who.clone())
    }

    pub fn revoke(&self, token: &str) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.remove(token);
    }

    /// Replaces the stored principal (e.g. after a password change clears the flag).
    pub fn update(&self, token: &str, who: Principal) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = m.get_mut(token) {
            e.who = who;
        }
    }

    pub fn count(&self) -> usize {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.len()
    }
}
