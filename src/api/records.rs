//! The daemon's own records in their contract shapes (`voltvend_api_types`): ledger
//! operations, outbox entries, audit entries, site settings, batch progress and report
//! tables. Each conversion writes the same JSON the record itself serialises to; the tests
//! below hold every variant to that.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use voltvend_api_types as body;

use crate::auth::Actor;
use crate::control::batch::{ItemProgress, Progress};
use crate::ledger::outbox::{MeterCommand, OutboxEntry};
use crate::ledger::{MeterAccountInit, OpDetail, OpKind, Operation, TransferIn};
use crate::report::table::{Cell, Kind, Table};
use crate::site::model::SiteDefaults;

/// A JSON body written with its object keys sorted at every level. The operations, outbox,
/// audit and settings bodies have always been written through `serde_json::Value` (whose
/// maps are sorted); this keeps their bytes as they were while the handlers return types.
pub struct SortedJson<T>(pub T);

impl<T: Serialize> IntoResponse for SortedJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_value(&self.0) {
            Ok(v) => Json(v).into_response(),
            Err(e) => super::ApiError::internal(e).into_response(),
        }
    }
}

pub fn actor(a: &Actor) -> body::Actor {
    match a {
        Actor::Operator { name, role } => body::Actor::Operator {
            name: name.clone(),
            role: role.to_string(),
        },
        Actor::Tenant { tenant } => body::Actor::Tenant {
            tenant: tenant.clone(),
        },
        Actor::System { component } => body::Actor::System {
            component: component.clone(),
        },
    }
}

fn op_kind(k: OpKind) -> body::OpKind {
    match k {
        OpKind::OpenAccount => body::OpKind::OpenAccount,
        OpKind::AddMeter => body::OpKind::AddMeter,
        OpKind::Sale => body::OpKind::Sale,
        OpKind::Refund => body::OpKind::Refund,
        OpKind::Reverse => body::OpKind::Reverse,
        OpKind::CloseAccount => body::OpKind::CloseAccount,
        OpKind::Consumption => body::OpKind::Consumption,
        OpKind::RefundSettled => body::OpKind::RefundSettled,
    }
}

fn account_init(m: &MeterAccountInit) -> body::MeterAccountInit {
    body::MeterAccountInit {
        meter: m.meter.to_string(),
        billing: m.billing.as_str().to_string(),
    }
}

fn transfer_in(t: &TransferIn) -> body::TransferIn {
    body::TransferIn {
        amount: t.amount.0,
        old_meter_serial: t.old_meter_serial.clone(),
    }
}

fn op_detail(d: &OpDetail) -> body::OpDetail {
    match d {
        OpDetail::OpenAccount {
            meters,
            transfer_in: t,
        } => body::OpDetail::OpenAccount {
            meters: meters.iter().map(account_init).collect(),
            transfer_in: t.as_ref().map(transfer_in),
        },
        OpDetail::AddMeter { meter } => body::OpDetail::AddMeter {
            meter: account_init(meter),
        },
        OpDetail::Sale {
            amount,
            method,
            receipt_no,
            credit,
        } => body::OpDetail::Sale {
            amount: amount.0,
            method: method.clone(),
            receipt_no: receipt_no.clone(),
            credit: credit
                .as_ref()
                .map(|(m, n)| body::MeterCredit(m.to_string(), *n)),
        },
        OpDetail::Refund {
            amount,
            reason,
            withdraw,
        } => body::OpDetail::Refund {
            amount: amount.0,
            reason: reason.clone(),
            withdraw: withdraw
                .as_ref()
                .map(|(m, n)| body::MeterCredit(m.to_string(), *n)),
        },
        OpDetail::RefundSettled {
            refund_op,
            amount,
            paid,
            reason,
        } => body::OpDetail::RefundSettled {
            refund_op: *refund_op,
            amount: amount.0,
            paid: *paid,
            reason: reason.clone(),
        },
        OpDetail::Reverse {
            op,
            reversed_kind,
            reason,
        } => body::OpDetail::Reverse {
            op: *op,
            reversed_kind: op_kind(*reversed_kind),
            reason: reason.clone(),
        },
        OpDetail::CloseAccount {
            final_charge,
            refunded,
            arrears,
            meters,
        } => body::OpDetail::CloseAccount {
            final_charge: final_charge.0,
            refunded: refunded.0,
            arrears: arrears.0,
            meters: meters.iter().map(|m| m.to_string()).collect(),
        },
        OpDetail::Consumption {
            meter,
            reading_key,
            energy,
            cost,
            charged,
            carry,
            reading_at,
        } => body::OpDetail::Consumption {
            meter: meter.to_string(),
            reading_key: reading_key.clone(),
            energy: energy.0,
            cost: cost.0,
            charged: charged.0,
            carry: carry.0,
            reading_at: reading_at.to_string(),
        },
    }
}

pub fn operation(o: &Operation) -> body::Operation {
    body::Operation {
        id: o.id,
        key: o.key.clone(),
        at: o.at.to_string(),
        actor: actor(&o.actor),
        tenant: o.tenant.as_ref().map(|t| t.to_string()),
        detail: op_detail(&o.detail),
        postings: o
            .postings
            .iter()
            .map(|p| body::Posting {
                account: p.account.clone(),
                amount: p.amount.0,
            })
            .collect(),
        balance_after: o.balance_after.map(|b| b.0),
        outbox: o.outbox.clone(),
        audit_seq: o.audit_seq,
    }
}

pub fn meter_command(c: &MeterCommand) -> body::MeterCommand {
    match c {
        MeterCommand::Trip => body::MeterCommand::Trip,
        MeterCommand::Close => body::MeterCommand::Close,
        MeterCommand::KeepPower(on) => body::MeterCommand::KeepPower(*on),
        MeterCommand::RestorePrepaid => body::MeterCommand::RestorePrepaid,
        MeterCommand::PushCredit {
            amount,
            purchase_count,
        } => body::MeterCommand::PushCredit {
            amount: amount.0,
            purchase_count: *purchase_count,
        },
        MeterCommand::WithdrawCredit {
            amount,
            purchase_count,
        } => body::MeterCommand::WithdrawCredit {
            amount: amount.0,
            purchase_count: *purchase_count,
        },
        MeterCommand::ClearCredit { purchase_count } => body::MeterCommand::ClearCredit {
            purchase_count: *purchase_count,
        },
        MeterCommand::PushPrices => body::MeterCommand::PushPrices,
        MeterCommand::PushSettings => body::MeterCommand::PushSettings,
        MeterCommand::ReadNow => body::MeterCommand::ReadNow,
    }
}

pub fn outbox_entry(e: &OutboxEntry) -> body::OutboxEntry {
    body::OutboxEntry {
        id: e.id,
        meter: e.meter.to_string(),
        command: meter_command(&e.command),
        cause_op: e.cause_op,
        created_at: e.created_at.to_string(),
    }
}

pub fn audit_entry(e: crate::auth::audit::AuditEntry) -> body::AuditEntry {
    body::AuditEntry {
        seq: e.seq,
        at: e.at,
        actor: actor(&e.actor),
        action: e.action,
        detail: e.detail,
        prev: e.prev,
        hash: e.hash,
    }
}

pub fn settings(d: &SiteDefaults) -> body::SiteSettings {
    body::SiteSettings {
        power_limit_w: d.power_limit_w,
        collection_interval_s: d.collection_interval_s,
        alarm1: d.alarm1.0,
        alarm2: d.alarm2.0,
        default_tariff: d.default_tariff.clone(),
        hoarding_cap: d.hoarding_cap.0,
        alarm_sms: d.alarm_sms.clone(),
        timezone: d.timezone.clone(),
    }
}

pub fn progress(p: Progress) -> body::Progress {
    body::Progress {
        id: p.id,
        at: p.at.to_string(),
        by: p.by,
        command: meter_command(&p.command),
        total: p.total,
        done: p.done,
        confirmed: p.confirmed,
        failed: p.failed,
        skipped: p.skipped,
        pending: p.pending,
        finished: p.finished,
        items: p
            .items
            .into_iter()
            .map(|i: ItemProgress| body::ItemProgress {
                meter: i.meter,
                state: i.state.to_string(),
                reason: i.reason,
                outbox: i.outbox,
            })
            .collect(),
    }
}

pub fn table(t: Table) -> body::ReportTable {
    body::ReportTable {
        title: t.title,
        params: t
            .params
            .into_iter()
            .map(|(n, v)| body::ReportParam(n, v))
            .collect(),
        columns: t
            .columns
            .into_iter()
            .map(|c| body::ReportColumn {
                name: c.name,
                kind: match c.kind {
                    Kind::Text => body::ColumnKind::Text,
                    Kind::Money => body::ColumnKind::Money,
                    Kind::Energy => body::ColumnKind::Energy,
                    Kind::Int => body::ColumnKind::Int,
                },
            })
            .collect(),
        rows: t
            .rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|c| match c {
                        Cell::Text(s) => body::Cell::Text(s),
                        Cell::Int(n) => body::Cell::Int(n),
                        Cell::Empty => body::Cell::Empty,
                    })
                    .collect()
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::ledger::Posting;
    use crate::site::{BillingMode, MeterId, TenantId};
    use crate::units::{Fen, SubFen, Wh};
    use serde_json::to_value;

    fn at() -> jiff::Timestamp {
        "2026-12-07T08:30:01.25Z".parse().unwrap_or_default()
    }

    fn op(detail: OpDetail, actor: Actor) -> Operation {
        Operation {
            id: 7,
            key: "api:op:alice:k1".into(),
            at: at(),
            actor,
            tenant: Some(TenantId::new("T0001")),
            detail,
            postings: vec![Posting {
                account: "tenant:T0001".into(),
                amount: Fen(-150),
            }],
            balance_after: Some(Fen(850)),
            outbox: vec![3, 4],
            audit_seq: 99,
        }
    }

    #[test]
    fn every_operation_detail_and_actor_keeps_its_json() {
        let m = MeterId::new("M-001");
        let init = MeterAccountInit {
            meter: m.clone(),
            billing: BillingMode::Meter,
        };
        let details = [
            OpDetail::OpenAccount {
                meters: vec![init.clone()],
                transfer_in: Some(TransferIn {
                    amount: Fen(120),
                    old_meter_serial: "OLD-1".into(),
                }),
            },
            OpDetail::AddMeter { meter: init },
            OpDetail::Sale {
                amount: Fen(10_000),
                method: "cash".into(),
                receipt_no: Some("R1".into()),
                credit: Some((m.clone(), 3)),
            },
            OpDetail::Refund {
                amount: Fen(5),
                reason: "moved out".into(),
                withdraw: None,
            },
            OpDetail::Reverse {
                op: 2,
                reversed_kind: OpKind::Sale,
                reason: "typo".into(),
            },
            OpDetail::CloseAccount {
                final_charge: Fen(1),
                refunded: Fen(2),
                arrears: Fen(3),
                meters: vec![m.clone()],
            },
            OpDetail::Consumption {
                meter: m,
                reading_key: "M-001@x".into(),
                energy: Wh(1230),
                cost: SubFen(12_345_678_901),
                charged: Fen(123),
                carry: SubFen(4_567),
                reading_at: at(),
            },
        ];
        let actors = [
            Actor::operator("alice", Role::Cashier),
            Actor::Tenant {
                tenant: "T0001".into(),
            },
            Actor::system("collector"),
        ];
        for d in details {
            for a in &actors {
                let o = op(d.clone(), a.clone());
                assert_eq!(to_value(&o).ok(), to_value(operation(&o)).ok(), "{o:?}");
            }
        }
    }

    #[test]
    fn outbox_progress_settings_and_tables_keep_their_json() {
        for c in [
            MeterCommand::Trip,
            MeterCommand::Close,
            MeterCommand::KeepPower(true),
            MeterCommand::RestorePrepaid,
            MeterCommand::PushCredit {
                amount: Fen(900),
                purchase_count: 4,
            },
            MeterCommand::PushPrices,
            MeterCommand::PushSettings,
            MeterCommand::ReadNow,
        ] {
            let e = OutboxEntry {
                id: 5,
                meter: MeterId::new("M-9"),
                command: c.clone(),
                cause_op: 8,
                created_at: at(),
            };
            assert_eq!(to_value(&e).ok(), to_value(outbox_entry(&e)).ok());
            let p = Progress {
                id: 1,
                at: at(),
                by: "op:alice".into(),
                command: c,
                total: 2,
                done: 1,
                confirmed: 1,
                failed: 0,
                skipped: 1,
                pending: 0,
                finished: true,
                items: vec![ItemProgress {
                    meter: "M-9".into(),
                    state: "skipped",
                    reason: Some("keep-power".into()),
                    outbox: None,
                }],
            };
            // Served directly (not through a sorted map): the bytes must match.
            assert_eq!(
                serde_json::to_string(&p).ok(),
                serde_json::to_string(&progress(p.clone())).ok()
            );
        }
        let mut d = SiteDefaults {
            alarm_sms: Some("13800000000".into()),
            ..SiteDefaults::default()
        };
        assert_eq!(to_value(&d).ok(), to_value(settings(&d)).ok());
        d.alarm_sms = None;
        assert_eq!(to_value(&d).ok(), to_value(settings(&d)).ok());
        let mut t = Table::new(
            "Sales",
            vec![("from".into(), "2026-12-01".into())],
            &[
                ("unit", Kind::Text),
                ("amount", Kind::Money),
                ("energy", Kind::Energy),
                ("n", Kind::Int),
            ],
        );
        t.rows.push(vec![
            Cell::text("A-101"),
            Cell::money(Fen(5)),
            Cell::Empty,
            Cell::Int(2),
        ]);
        assert_eq!(
            serde_json::to_string(&t).ok(),
            serde_json::to_string(&table(t.clone())).ok()
        );
        let e = crate::auth::audit::AuditEntry {
            seq: 3,
            at: at().to_string(),
            actor: Actor::system("kiosk"),
            action: "tenant.lockout".into(),
            detail: serde_json::json!({"unit": "A-101"}),
            prev: "0".repeat(64),
            hash: "f".repeat(64),
        };
        assert_eq!(to_value(&e).ok(), to_value(audit_entry(e.clone())).ok());
    }
}
