//! The daemon: the store, ledger, live state, payments, receipts and the API composed into
//! one running service, used by `voltvend serve` and `voltvend demo`. `start` returns once
//! every listener is bound; `stop` ends them gracefully (in-flight requests finish) and
//! releases the database.

pub mod alarms;
pub mod archive;
pub mod demo_field;
pub mod notify;
pub mod seed;
pub mod service;

use crate::api::{self, AppState, Inner, Metrics, Sessions};
use crate::field::live::LiveState;
use crate::ledger::Ledger;
use crate::payment::topup::TopUps;
use crate::payment::{PaymentProvider, SandboxProvider};
use crate::receipt::{PrinterTarget, ReceiptSigner, Receipts};
use crate::store::{Store, StoreError};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Per-appliance secrets, generated on first start and kept in the store:
/// `receipt` signs receipt QR codes, `sandbox` signs sandbox payment notifications.
const SERVICE_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("service_keys");

/// How to run the service.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// The redb database file.
    pub db_path: PathBuf,
    /// HTTP listen address (kiosk, tenant and operator API).
    pub listen: SocketAddr,
    /// Unix socket for local operator clients (the TUI); `None` = none.
    pub socket: Option<PathBuf>,
    /// Base URL printed in receipt QR codes and payment QR codes; default `http://LISTEN`.
    pub public_url: Option<String>,
    pub site_name: String,
    pub printer: PrinterTarget,
    /// Enable the sandbox payment provider (demo and tests; never on a live site).
    pub sandbox: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error(transparent)]
    Site(#[from] crate::site::SiteError),
    #[error("demo: {0}")]
    Demo(String),
    #[error("cannot listen on {what}: {source}")]
    Listen {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// A running service.
pub struct Daemon {
    pub state: AppState,
    /// The bound HTTP address (useful with port 0).
    pub addr: SocketAddr,
    pub public_url: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    socket: Option<PathBuf>,
}

/// Reads a per-appliance key, creating a random one the first time (blocking: the first
/// call waits for the commit; async code uses [`service_key_async`]).
pub fn service_key(store: &Store, name: &str) -> Result<Vec<u8>, StoreError> {
    match stored_service_key(store, name)? {
        Some(k) => Ok(k),
        None => store.write(create_service_key(name)),
    }
}

/// [`service_key`] for async callers: the task awaits the commit, the worker does not.
pub async fn service_key_async(store: &Store, name: &str) -> Result<Vec<u8>, StoreError> {
    match stored_service_key(store, name)? {
        Some(k) => Ok(k),
        None => store.write_async(create_service_key(name)).await,
    }
}

fn stored_service_key(store: &Store, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(SERVICE_KEYS) {
        Ok(t) => Ok(t.get(name)?.map(|v| v.value().to_vec())),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The write that stores a fresh key `name` unless another caller stored one first. The key
/// is drawn once, outside, so a rerun of the closure stores the same one.
fn create_service_key(
    name: &str,
) -> impl FnMut(&redb::WriteTransaction) -> Result<Vec<u8>, StoreError> + Send + 'static {
    let fresh = rand::random::<[u8; 32]>().to_vec();
    let name = name.to_string();
    move |txn| {
        let mut t = txn.open_table(SERVICE_KEYS)?;
        let existing = t.get(name.as_str())?.map(|v| v.value().to_vec());
        match existing {
            Some(k) => Ok(k),
            None => {
                t.insert(name.as_str(), fresh.as_slice())?;
                Ok(fresh.clone())
            }
        }
    }
}

/// The site master key of credit tokens (generated on first use, kept in the store; the
/// per-meter keys are diversified from it).
pub fn credit_master_key(store: &Store) -> Result<[u8; 16], StoreError> {
    Ok(master_key(&service_key(store, "credit_master")?))
}

/// [`credit_master_key`] for async callers.
pub async fn credit_master_key_async(store: &Store) -> Result<[u8; 16], StoreError> {
    Ok(master_key(
        &service_key_async(store, "credit_master").await?,
    ))
}

fn master_key(k: &[u8]) -> [u8; 16] {
    let mut key = [0u8; 16];
    for (d, s) in key.iter_mut().zip(k.iter()) {
        *d = *s;
    }
    key
}

impl Daemon {
    /// Opens the store (or uses `parts`) and starts serving.
    pub async fn start(cfg: DaemonConfig) -> Result<Daemon, DaemonError> {
        let store = Store::open(&cfg.db_path)?;
        let ledger = Ledger::open(store.clone())?;
        Daemon::start_with(cfg, store, ledger, LiveState::new()).await
    }

    /// Starts serving on an already opened store and ledger (the demo seeds them first).
    pub async fn start_with(
        cfg: DaemonConfig,
        store: Store,
        ledger: Ledger,
        live: LiveState,
    ) -> Result<Daemon, DaemonError> {
        let defaults = crate::site::repo::defaults(&store)?;
        ledger.set_hoarding_cap(defaults.hoarding_cap);
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| DaemonError::Listen {
                what: cfg.listen.to_string(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| DaemonError::Listen {
                what: cfg.listen.to_string(),
                source,
            })?;
        let public_url = cfg
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let receipt_key = service_key_async(&store, "receipt").await?;
        let signer = ReceiptSigner::new(&receipt_key);
        let receipts = Receipts::new(signer, cfg.printer.clone(), &public_url);
        let sandbox = if cfg.sandbox {
            let key = service_key_async(&store, "sandbox").await?;
            Some(SandboxProvider::new(&key, &public_url))
        } else {
            None
        };
        let mut providers: Vec<Arc<dyn PaymentProvider>> = Vec::new();
        if let Some(s) = &sandbox {
            providers.push(Arc::new(s.clone()));
        }
        let topups = TopUps::new(
            store.clone(),
            ledger.clone(),
            providers,
            receipts,
            &cfg.site_name,
        );
        let state = AppState(Arc::new(Inner {
            store,
            ledger,
            live,
            topups,
            sandbox,
            sessions: Sessions::default(),
            metrics: Metrics::default(),
            site_name: cfg.site_name.clone(),
            started: std::time::Instant::now(),
        }));
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let app = api::router(state.clone());
        let mut rx = stopped.clone();
        tasks.push(tokio::spawn(async move {
            let r = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
            if let Err(e) = r {
                tracing::error!(error = %e, "HTTP server failed");
            }
        }));
        if let Some(path) = &cfg.socket {
            // A socket left by a previous run that did not stop cleanly.
            let _ = std::fs::remove_file(path);
            let ul =
                tokio::net::UnixListener::bind(path).map_err(|source| DaemonError::Listen {
                    what: path.display().to_string(),
                    source,
                })?;
            // Staff only: owner and group may connect.
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660));
            let app = api::socket_router(state.clone());
            let mut rx = stopped.clone();
            tasks.push(tokio::spawn(async move {
                let r = axum::serve(ul, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|s| *s).await;
                    })
                    .await;
                if let Err(e) = r {
                    tracing::error!(error = %e, "Unix socket server failed");
                }
            }));
        }
        tracing::info!(%addr, socket = ?cfg.socket, "voltvend service listening");
        Ok(Daemon {
            state,
            addr,
            public_url,
            stop,
            tasks,
            socket: cfg.socket,
        })
    }

    /// Runs the control queue (meter commands from the outbox, host-mode arrears trips)
    /// through `collector` until the daemon stops.
    pub fn run_control(
        &mut self,
        collector: Arc<crate::field::collector::CollectorHandle>,
        config: crate::control::ControlConfig,
    ) {
        let control = crate::control::Control::new(
            self.state.store.clone(),
            self.state.ledger.clone(),
            collector,
            config,
        );
        self.tasks.push(control.spawn(self.stop.subscribe()));
    }

    /// Stops accepting, lets in-flight requests finish, and releases the store.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(p) = &self.socket {
            let _ = std::fs::remove_file(p);
        }
        tracing::info!("voltvend service stopped");
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => tracing::info!("SIGTERM received: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received: stopping"),
    }
}
