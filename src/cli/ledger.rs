//! `voltvend ledger`: balances, sales, refunds, reversals, history and checks from a shell
//! on the appliance. Every change goes through the same ledger operations as the kiosk and
//! the API (idempotency key, permission check, audit entry).

use anyhow::{Context, bail};
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use voltvend::auth::{Actor, Role};
use voltvend::ledger::money::yuan;
use voltvend::ledger::*;
use voltvend::site::{BillingMode, MeterId, TenantId};
use voltvend::store::Store;
use voltvend::units::Fen;

pub const DEFAULT_STORE: &str = "/var/lib/voltvend/voltvend.redb";

/// Balances, sales, refunds, reversals, history and an integrity check of the ledger.
///
/// Amounts are yuan (`50`, `12.34`, `¥12.34`). Each change prints the idempotency key it
/// used: run the same command again with `--key KEY` to retry safely (a retry is answered
/// with the first result and never charged twice).
#[derive(clap::Args)]
pub struct Args {
    /// The store (redb database file).
    #[arg(long, global = true, env = "VOLTVEND_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
    /// Operator name recorded in the audit log (the shell user by default).
    #[arg(long = "as", global = true, env = "USER", default_value = "root")]
    operator: String,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand)]
enum Sub {
    /// Show a tenant's balance, account status and meters.
    Balance { tenant: String },
    /// Open an account for a tenant with one or more meters.
    Open {
        tenant: String,
        /// A meter as ID or ID:MODE, where MODE is `host` (default: we charge and trip) or
        /// `meter` (the meter keeps its own balance; we push credit). Repeatable.
        #[arg(long = "meter", required = true)]
        meters: Vec<String>,
        /// Balance carried over from the tenant's old meter.
        #[arg(long, requires = "old_serial")]
        transfer: Option<String>,
        /// Serial number of the old meter the balance came from.
        #[arg(long)]
        old_serial: Option<String>,
        #[arg(long)]
        key: Option<String>,
    },
    /// Sell credit to a tenant (top-up).
    Sale {
        tenant: String,
        /// Amount in yuan.
        amount: String,
        /// Payment method: cash, wechat, alipay, unionpay, …
        #[arg(long, default_value = "cash")]
        method: String,
        /// Receipt or voucher number.
        #[arg(long)]
        receipt: Option<String>,
        /// The meter-mode meter that receives the credit (when the tenant has several).
        #[arg(long)]
        meter: Option<String>,
        /// Idempotency key; reuse it to retry the same sale.
        #[arg(long)]
        key: Option<String>,
    },
    /// Pay money back to a tenant (退电); at most the balance.
    Refund {
        tenant: String,
        amount: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        key: Option<String>,
    },
    /// Undo one earlier sale or refund (冲正); recorded as a new operation.
    Reverse {
        /// Operation number (see `history`).
        op: u64,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        key: Option<String>,
    },
    /// Close a tenant's account: final charge, settle to zero, close its meters.
    Close {
        tenant: String,
        /// Final charge in yuan.
        #[arg(long, default_value = "0")]
        final_charge: String,
        #[arg(long)]
        key: Option<String>,
    },
    /// List operations, newest first: one tenant's, or all.
    History {
        tenant: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Check every ledger invariant over the whole store; exit status 1 if any is broken.
    Verify,
    /// Write a consistent copy of the whole store to a file while voltvend runs.
    Backup { dest: PathBuf },
    /// Crash-test load: sales in a loop with keys torture-N, N from --start, printing
    /// `ack <key> <op>` after each durable commit.
    #[command(hide = true)]
    Torture {
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// Stop after this many sales (default: run until killed).
        #[arg(long)]
        count: Option<u64>,
        /// Concurrent sellers (exercises group commit).
        #[arg(long, default_value_t = 4)]
        writers: usize,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::open(&args.store)
        .with_context(|| format!("opening the store {}", args.store.display()))?;
    // A local shell on the appliance with write access to the store file is trusted as an
    // administrator; the name is what the audit log records.
    let actor = Actor::operator(&format!("{}@cli", args.operator), Role::Admin);
    match args.command {
        Sub::Balance { tenant } => balance(&store, &tenant),
        Sub::History { tenant, limit } => history(&store, tenant, limit),
        Sub::Verify => verify(&store),
        Sub::Backup { dest } => {
            let r = store
                .backup_to(&dest)
                .with_context(|| format!("backing up to {}", dest.display()))?;
            println!(
                "backup written to {} ({} bytes, schema version {})",
                dest.display(),
                r.bytes,
                r.schema_version
            );
            Ok(())
        }
        Sub::Torture {
            start,
            count,
            writers,
        } => torture(store, &actor, start, count, writers),
        change => {
            let ledger = Ledger::open(store)?;
            let (key, req) = request(change)?;
            let r = ledger.submit(&actor, &key, req)?;
            print_receipt(&r, &key);
            Ok(())
        }
    }
}

fn money(text: &str) -> anyhow::Result<Fen> {
    Fen::parse(text).with_context(|| format!("amount '{text}'"))
}

fn new_key() -> String {
    format!(
        "cli-{}-{:08x}",
        jiff::Timestamp::now().as_millisecond(),
        rand::random::<u32>()
    )
}

fn request(change: Sub) -> anyhow::Result<(String, Request)> {
    Ok(match change {
        Sub::Open {
            tenant,
            meters,
            transfer,
            old_serial,
            key,
        } => {
            let mut inits = Vec::new();
            for m in &meters {
                let (id, mode) = m.split_once(':').unwrap_or((m, "host"));
                let billing: BillingMode = mode.parse().map_err(anyhow::Error::msg)?;
                inits.push(MeterAccountInit {
                    meter: MeterId::new(id),
                    billing,
                });
            }
            let transfer_in = match transfer {
                Some(t) => Some(TransferIn {
                    amount: money(&t)?,
                    old_meter_serial: old_serial.unwrap_or_default(),
                }),
                None => None,
            };
            (
                key.unwrap_or_else(new_key),
                Request::OpenAccount(OpenAccount {
                    tenant: TenantId::new(tenant),
                    meters: inits,
                    transfer_in,
                }),
            )
        }
        Sub::Sale {
            tenant,
            amount,
            method,
            receipt,
            meter,
            key,
        } => (
            key.unwrap_or_else(new_key),
            Request::Sale(Sale {
                tenant: TenantId::new(tenant),
                amount: money(&amount)?,
                method,
                receipt_no: receipt,
                meter: meter.map(MeterId::new),
            }),
        ),
        Sub::Refund {
            tenant,
            amount,
            reason,
            key,
        } => (
            key.unwrap_or_else(new_key),
            Request::Refund(Refund {
                tenant: TenantId::new(tenant),
                amount: money(&amount)?,
                reason,
                meter: None,
            }),
        ),
        Sub::Reverse { op, reason, key } => (
            key.unwrap_or_else(new_key),
            Request::Reverse(Reverse { op, reason }),
        ),
        Sub::Close {
            tenant,
            final_charge,
            key,
        } => (
            key.unwrap_or_else(new_key),
            Request::CloseAccount(CloseAccount {
                tenant: TenantId::new(tenant),
                final_charge: money(&final_charge)?,
            }),
        ),
        _ => bail!("not a change"),
    })
}

fn print_receipt(r: &OpReceipt, key: &str) {
    let tenant = r.tenant.as_ref().map_or("-", |t| t.as_str());
    let balance = r.balance.map_or_else(|| "-".to_string(), yuan);
    println!(
        "operation {}: {} for {tenant}, {}{}, balance {balance} (key {key})",
        r.op,
        r.kind,
        if r.amount.0 >= 0 { "+" } else { "" },
        yuan(r.amount),
    );
    if !r.outbox.is_empty() {
        println!("meter commands queued: {:?}", r.outbox);
    }
}

fn balance(store: &Store, tenant: &str) -> anyhow::Result<()> {
    let Some(acc) = reads::account(store, &TenantId::new(tenant))? else {
        bail!("tenant {tenant} has no account");
    };
    println!(
        "{}: balance {} ({})",
        acc.tenant,
        yuan(acc.balance),
        match acc.status {
            AccountStatus::Open => "open",
            AccountStatus::Closed => "closed",
        }
    );
    for m in acc.meters {
        println!(
            "  meter {} ({} mode){}{}, purchases {}",
            m.meter,
            m.billing.as_str(),
            if m.closed { ", closed" } else { "" },
            if m.tripped { ", tripped" } else { "" },
            m.purchase_count
        );
    }
    Ok(())
}

fn history(store: &Store, tenant: Option<String>, limit: usize) -> anyhow::Result<()> {
    let filter = OpFilter {
        tenant: tenant.map(TenantId::new),
        limit: Some(limit),
        newest_first: true,
        ..OpFilter::default()
    };
    for op in reads::operations(store, &filter)? {
        let tenant = op.tenant.as_ref().map_or("-", |t| t.as_str());
        let effect: i64 = op
            .postings
            .iter()
            .filter(|p| {
                Some(&p.account)
                    == op
                        .tenant
                        .as_ref()
                        .map(voltvend::ledger::tenant_account)
                        .as_ref()
            })
            .map(|p| p.amount.0)
            .sum();
        let what = match &op.detail {
            OpDetail::Sale {
                method, receipt_no, ..
            } => format!(
                "{method}{}",
                receipt_no
                    .as_ref()
                    .map_or(String::new(), |r| format!(" #{r}"))
            ),
            OpDetail::Refund { reason, .. } => reason.clone(),
            OpDetail::RefundSettled {
                refund_op, paid, ..
            } => format!(
                "refund {refund_op} {}",
                if *paid { "paid out" } else { "cancelled" }
            ),
            OpDetail::Reverse { op, reason, .. } => format!("undoes {op}: {reason}"),
            OpDetail::Consumption { energy, .. } => format!("{} kWh", energy.kwh()),
            OpDetail::CloseAccount {
                refunded, arrears, ..
            } => {
                format!("refunded {}, arrears {}", yuan(*refunded), yuan(*arrears))
            }
            OpDetail::OpenAccount { transfer_in, .. } => {
                transfer_in.as_ref().map_or(String::new(), |t| {
                    format!("from old meter {}", t.old_meter_serial)
                })
            }
            OpDetail::AddMeter { meter } => format!("meter {}", meter.meter),
        };
        println!(
            "{:>6}  {}  {:<13} {:<10} {:>14}  {}  [{}]",
            op.id,
            op.at.strftime("%Y-%m-%d %H:%M:%S"),
            op.detail.kind().name(),
            tenant,
            yuan(Fen(effect)),
            what,
            op.actor.label()
        );
    }
    Ok(())
}

fn verify(store: &Store) -> anyhow::Result<()> {
    let report = reads::verify(store)?;
    println!(
        "{} operations, {} postings, {} accounts, balances sum to {}",
        report.operations,
        report.postings,
        report.accounts,
        yuan(report.total)
    );
    if report.is_ok() {
        println!("ledger OK");
        return Ok(());
    }
    for p in &report.problems {
        println!("BROKEN: {p}");
    }
    bail!("{} ledger invariant(s) broken", report.problems.len())
}

/// The tenant the torture load sells to.
pub const TORTURE_TENANT: &str = "TORTURE";

fn torture(
    store: Store,
    actor: &Actor,
    start: u64,
    count: Option<u64>,
    writers: usize,
) -> anyhow::Result<()> {
    let ledger = Ledger::open(store)?;
    ledger.open_account(
        actor,
        "torture-open",
        OpenAccount {
            tenant: TenantId::new(TORTURE_TENANT),
            meters: vec![MeterAccountInit {
                meter: MeterId::new("TORTURE-M1"),
                billing: BillingMode::Host,
            }],
            transfer_in: None,
        },
    )?;
    let next = Arc::new(AtomicU64::new(start));
    let end = count.map_or(u64::MAX, |c| start.saturating_add(c));
    let threads: Vec<_> = (0..writers.max(1))
        .map(|_| {
            let (ledger, next, actor) = (ledger.clone(), next.clone(), actor.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return Ok(());
                    }
                    let key = format!("torture-{i}");
                    let r = ledger.sale(
                        &actor,
                        &key,
                        Sale {
                            tenant: TenantId::new(TORTURE_TENANT),
                            amount: torture_amount(i),
                            method: "cash".into(),
                            receipt_no: None,
                            meter: None,
                        },
                    )?;
                    // Printed only after the commit returned: an ack is a durable sale.
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {key} {}", r.op)?;
                    out.flush()?;
                }
            })
        })
        .collect();
    for t in threads {
        t.join()
            .map_err(|_| anyhow::anyhow!("a torture writer panicked"))??;
    }
    Ok(())
}

/// The amount of torture sale `i` (deterministic, so a checker can recompute it).
pub fn torture_amount(i: u64) -> Fen {
    Fen(100 + (i % 97) as i64)
}
