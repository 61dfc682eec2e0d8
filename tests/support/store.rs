//! Stores in fresh temp dirs (each kept as long as the returned `TempDir` lives).

use std::path::PathBuf;

use voltvend::auth::Actor;
use voltvend::import::{Kind, import_file};
use voltvend::ledger::Ledger;
use voltvend::store::Store;

/// A temp dir and the path of a store file in it (not created yet).
pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("site.redb");
    (dir, db)
}

/// An empty store in a temp dir.
pub fn temp_store() -> (tempfile::TempDir, Store) {
    let (dir, db) = temp_db();
    let store = Store::open(&db).expect("store");
    (dir, store)
}

/// An empty store and its ledger in a temp dir.
pub fn temp_ledger() -> (tempfile::TempDir, Store, Ledger) {
    let (dir, store) = temp_store();
    let ledger = Ledger::open(store.clone()).expect("ledger");
    (dir, store, ledger)
}

/// The example site's import files (examples/site).
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/site")
}

/// A store (`site.redb` in a temp dir) holding the example site imported up to `upto`, in
/// import order.
pub fn example_site(upto: Kind) -> (tempfile::TempDir, Store) {
    let (dir, store) = temp_store();
    for kind in [
        Kind::Buildings,
        Kind::Units,
        Kind::Gateways,
        Kind::Meters,
        Kind::Tenants,
    ] {
        let file = examples().join(format!("{}.csv", kind.as_str()));
        import_file(&store, &Actor::system("test"), kind, &file, false).expect("import");
        if kind == upto {
            break;
        }
    }
    (dir, store)
}
