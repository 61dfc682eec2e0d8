//! The store writer: one thread owns every durable write to the database.
//!
//! redb allows one write transaction at a time and each commit is an fsync. Callers hand the
//! writer a closure over one [`WriteTransaction`]; the writer takes the first waiting job,
//! then everything else already queued (up to [`MAX_BATCH`]), runs them in order in ONE
//! transaction and commits it with `Durability::Immediate` (one fsync for the batch). Only
//! after the commit returns does each caller get its answer, so an acknowledged write is
//! durable. While one batch is being synced the next one queues up: that is group commit.
//!
//! A closure that returns `Err` (or panics) must leave nothing behind, so the batch it was in
//! is abandoned and each of its jobs runs again alone: the failing one then aborts its own
//! transaction and only it sees the error. Closures are therefore `FnMut` and must do only
//! transaction work (no messages, no I/O) so that running one twice is harmless.
//!
//! Async callers await the answer ([`Store::write_async`]); nothing on an async worker
//! waits for an fsync. Blocking callers (CLI, blocking threads) use [`Store::write`].

use super::{Store, StoreError};
use redb::{Database, WriteTransaction};
use std::cell::Cell;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Mutex, Weak};
use std::thread::JoinHandle;

/// Jobs per commit at most: bounds the transaction size and the wait of the first job.
pub const MAX_BATCH: usize = 512;

thread_local! {
    /// True on the writer thread: a closure that asks for another write would wait for itself.
    static ON_WRITER: Cell<bool> = const { Cell::new(false) };
}

/// One caller's work, type-erased so jobs of any result type share the queue.
trait Job: Send {
    /// Runs the work in `txn`; `false` when it failed and the transaction must not commit.
    fn run(&mut self, txn: &WriteTransaction) -> bool;
    /// Answers the caller: the work's result once committed, or why the commit failed.
    fn answer(self: Box<Self>, commit: Result<(), StoreError>);
}

enum Reply<R> {
    Blocking(std::sync::mpsc::SyncSender<R>),
    Async(tokio::sync::oneshot::Sender<R>),
}

struct Typed<F, T, E> {
    work: F,
    result: Option<Result<T, E>>,
    reply: Option<Reply<Result<T, E>>>,
}

impl<F, T, E> Job for Typed<F, T, E>
where
    F: FnMut(&WriteTransaction) -> Result<T, E> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, txn: &WriteTransaction) -> bool {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.work)(txn)))
            .unwrap_or_else(|_| Err(E::from(StoreError::WriterPanicked)));
        let ok = outcome.is_ok();
        self.result = Some(outcome);
        ok
    }

    fn answer(mut self: Box<Self>, commit: Result<(), StoreError>) {
        let answer = match (commit, self.result.take()) {
            (_, Some(Err(e))) => Err(e),
            (Ok(()), Some(Ok(v))) => Ok(v),
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), None) => Err(E::from(StoreError::WriterGone)),
        };
        // A caller that gave up waiting is not an error of the store.
        match self.reply.take() {
            Some(Reply::Blocking(s)) => {
                let _ = s.send(answer);
            }
            Some(Reply::Async(s)) => {
                let _ = s.send(answer);
            }
            None => {}
        }
    }
}

/// The queue to the writer thread; the thread stops when the last [`Store`] handle drops it.
pub(crate) struct Writer {
    jobs: Mutex<Option<Sender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread. It holds the database weakly so that dropping the last
    /// [`Store`] closes the file (a test or a restore may open it again at once).
    pub(crate) fn start(db: Weak<Database>, name: &str) -> Result<Writer, StoreError> {
        let (send, recv) = std::sync::mpsc::channel::<Box<dyn Job>>();
        let thread = std::thread::Builder::new()
            .name(format!("store-writer {name}"))
            .spawn(move || run(db, recv))
            .map_err(|e| StoreError::Io {
                path: "store writer thread".into(),
                source: e,
            })?;
        Ok(Writer {
            jobs: Mutex::new(Some(send)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn queue(&self, job: Box<dyn Job>) -> Result<(), StoreError> {
        if ON_WRITER.with(Cell::get) {
            return Err(StoreError::Reentrant);
        }
        let jobs = self.jobs.lock().map_err(|_| StoreError::WriterGone)?;
        jobs.as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(job)
            .map_err(|_| StoreError::WriterGone)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the loop once the queued jobs are done; wait for it so the
        // database is released when the last handle is gone.
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if ON_WRITER.with(Cell::get) {
            return;
        }
        if let Ok(mut t) = self.thread.lock()
            && let Some(h) = t.take()
        {
            let _ = h.join();
        }
    }
}

impl Store {
    /// Runs `work` in a durable write transaction on the writer thread and waits for the
    /// commit. Blocks the calling thread: from async code use [`Store::write_async`].
    pub fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnMut(&WriteTransaction) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (send, recv) = std::sync::mpsc::sync_channel(1);
        self.writer.queue(Box::new(Typed {
            work,
            result: None,
            reply: Some(Reply::Blocking(send)),
        }))?;
        recv.recv().map_err(|_| E::from(StoreError::WriterGone))?
    }

    /// [`Store::write`] for async callers: the task waits, the runtime's worker does not.
    pub async fn write_async<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnMut(&WriteTransaction) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (send, recv) = tokio::sync::oneshot::channel();
        self.writer.queue(Box::new(Typed {
            work,
            result: None,
            reply: Some(Reply::Async(send)),
        }))?;
        recv.await.map_err(|_| E::from(StoreError::WriterGone))?
    }
}

fn run(db: Weak<Database>, rx: Receiver<Box<dyn Job>>) {
    ON_WRITER.with(|w| w.set(true));
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let Some(db) = db.upgrade() else {
            for job in jobs {
                job.answer(Err(StoreError::WriterGone));
            }
            continue;
        };
        match commit(&db, &mut jobs) {
            Outcome::Committed(r) => answer_all(jobs, r),
            Outcome::JobFailed if jobs.len() == 1 => answer_all(jobs, Ok(())),
            Outcome::JobFailed => {
                tracing::debug!(
                    batch = jobs.len(),
                    "store batch had a failed job; running each alone"
                );
                for mut job in jobs {
                    let r = match commit(&db, std::slice::from_mut(&mut job)) {
                        Outcome::Committed(r) => r,
                        Outcome::JobFailed => Ok(()),
                    };
                    job.answer(r);
                }
            }
        }
    }
}

enum Outcome {
    /// Every job succeeded; the commit's result.
    Committed(Result<(), StoreError>),
    /// A job failed; the transaction was aborted and nothing was written.
    JobFailed,
}

fn commit(db: &Database, jobs: &mut [Box<dyn Job>]) -> Outcome {
    let mut txn = match db.begin_write() {
        Ok(t) => t,
        Err(e) => return Outcome::Committed(Err(e.into())),
    };
    // redb's default, stated because every acknowledgement relies on it.
    if let Err(e) = txn.set_durability(redb::Durability::Immediate) {
        return Outcome::Committed(Err(StoreError::Durability(e.to_string())));
    }
    for job in jobs.iter_mut() {
        if !job.run(&txn) {
            let _ = txn.abort();
            return Outcome::JobFailed;
        }
    }
    Outcome::Committed(txn.commit().map_err(StoreError::from))
}

fn answer_all(jobs: Vec<Box<dyn Job>>, r: Result<(), StoreError>) {
    for job in jobs {
        job.answer(match &r {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::BatchFailed(e.to_string())),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableDatabase, TableDefinition};

    const T: TableDefinition<u64, u64> = TableDefinition::new("writer_test");

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("w.redb")).unwrap();
        (dir, store)
    }

    fn get(store: &Store, k: u64) -> Option<u64> {
        let txn = store.db().begin_read().unwrap();
        let t = txn.open_table(T).ok()?;
        t.get(k).unwrap().map(|v| v.value())
    }

    fn put(k: u64) -> impl FnMut(&WriteTransaction) -> Result<u64, StoreError> + Send + 'static {
        move |txn| {
            txn.open_table(T)?.insert(k, k * 10)?;
            Ok(k)
        }
    }

    #[test]
    fn a_write_is_visible_once_answered() {
        let (_d, store) = open();
        assert_eq!(store.write(put(1)).unwrap(), 1);
        assert_eq!(get(&store, 1), Some(10));
    }

    #[test]
    fn a_failed_job_writes_nothing_and_spoils_no_neighbour() {
        let (_d, store) = open();
        let mut handles = Vec::new();
        for k in 0..64u64 {
            let s = store.clone();
            handles.push(std::thread::spawn(move || {
                s.write(move |txn| {
                    txn.open_table(T)?.insert(k, k)?;
                    if k % 7 == 3 {
                        return Err(StoreError::Corrupt {
                            table: "writer_test",
                            why: format!("job {k} refused"),
                        });
                    }
                    Ok(k)
                })
            }));
        }
        for (k, h) in handles.into_iter().enumerate() {
            let k = k as u64;
            let r = h.join().unwrap();
            if k % 7 == 3 {
                assert!(
                    r.unwrap_err()
                        .to_string()
                        .contains(&format!("job {k} refused"))
                );
                assert_eq!(get(&store, k), None, "job {k} left a write behind");
            } else {
                assert_eq!(r.unwrap(), k);
                assert_eq!(get(&store, k), Some(k));
            }
        }
    }

    #[test]
    fn a_panicking_job_is_an_error_and_the_writer_keeps_serving() {
        let (_d, store) = open();
        let r: Result<(), StoreError> = store.write(|txn| {
            txn.open_table(T)?.insert(5, 5)?;
            panic!("on purpose");
        });
        assert!(matches!(r, Err(StoreError::WriterPanicked)));
        assert_eq!(get(&store, 5), None);
        store.write(put(6)).unwrap();
        assert_eq!(get(&store, 6), Some(60));
    }

    #[test]
    fn a_write_from_inside_a_write_is_refused_not_deadlocked() {
        let (_d, store) = open();
        let inner = store.clone();
        let r: Result<u64, StoreError> = store.write(move |_| inner.write(put(7)));
        assert!(matches!(r, Err(StoreError::Reentrant)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn async_writes_commit_on_a_single_threaded_runtime() {
        let (_d, store) = open();
        let (a, b) = tokio::join!(store.write_async(put(8)), store.write_async(put(9)));
        assert_eq!((a.unwrap(), b.unwrap()), (8, 9));
        assert_eq!((get(&store, 8), get(&store, 9)), (Some(80), Some(90)));
    }

    #[test]
    fn dropping_the_last_handle_closes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.redb");
        let store = Store::open(&path).unwrap();
        store.write(put(1)).unwrap();
        drop(store);
        let again = Store::open(&path).unwrap();
        assert_eq!(get(&again, 1), Some(10));
    }
}
