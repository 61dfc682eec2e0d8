//! The repository stands alone (issue 12 item 6): no file points outside it, every store
//! table is documented in docs/storage.md, and a store written by schema version 2 (checked
//! in as tests/vectors/store-v2.redb) still opens, migrates and reads with today's code.

use std::path::{Path, PathBuf};
use std::process::Command;

use voltvend::auth::audit;
use voltvend::ledger::Ledger;
use voltvend::site::{TenantId, repo};
use voltvend::store::{SCHEMA_VERSION, Store};
use voltvend::units::Fen;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of the repository: `git ls-files` (what a clone has); without git (an
/// unpacked source archive), every file under the root except build output.
fn repository_files() -> Vec<PathBuf> {
    let listed = Command::new("git")
        .arg("-C")
        .arg(root())
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output();
    if let Ok(out) = listed
        && out.status.success()
    {
        return out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root().join(String::from_utf8_lossy(p).as_ref()))
            .filter(|p| p.is_file())
            .collect();
    }
    let mut files = Vec::new();
    let mut dirs = vec![root().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("read dir")
            .map_while(Result::ok)
        {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && name != ".git" {
                    dirs.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_file_points_at_a_directory_outside_the_repository() {
    // Built from parts so that this file does not match itself.
    let needle = format!("../{}", "shared");
    let files = repository_files();
    assert!(
        files.iter().any(|f| f.ends_with("src/lib.rs")),
        "the file list is wrong: {} files",
        files.len()
    );
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|bytes| contains(&bytes, needle.as_bytes()))
                .unwrap_or(false)
        })
        .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files point at {needle}, which a clone does not have; copy what they cite \
         into docs/reference/ or tests/vectors/ and point there: {offenders:?}"
    );
}

/// The names of the redb tables defined in `source` outside its `#[cfg(test)]` part:
/// the string literal after each `TableDefinition::new(` (also `MultimapTableDefinition`).
fn table_names(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut names = Vec::new();
    for (i, _) in code.match_indices("TableDefinition::new(") {
        let rest = &code[i + "TableDefinition::new(".len()..];
        let Some(open) = rest.find('"') else { continue };
        let rest = &rest[open + 1..];
        if let Some(close) = rest.find('"') {
            names.push(rest[..close].to_string());
        }
    }
    names
}

#[test]
fn table_names_are_found_across_lines_and_not_in_tests() {
    let src = "pub const A: T = TableDefinition::new(\"a\");\n\
               pub const B: M =\n    MultimapTableDefinition::new(\n        \"b\");\n\
               #[cfg(test)]\nmod tests { const C: T = TableDefinition::new(\"c\"); }";
    assert_eq!(table_names(src), ["a", "b"]);
}

#[test]
fn every_table_defined_in_src_is_documented_in_docs_storage() {
    let doc = std::fs::read_to_string(root().join("docs/storage.md")).expect("docs/storage.md");
    let mut found = Vec::new();
    let mut dirs = vec![root().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src").map_while(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for name in table_names(&text) {
                    found.push((name, path.strip_prefix(root()).unwrap_or(&path).to_owned()));
                }
            }
        }
    }
    // The store has about 50 tables; far fewer means the scan above is broken.
    assert!(found.len() >= 40, "only {} tables found", found.len());
    let missing: Vec<String> = found
        .iter()
        .filter(|(name, _)| !doc.contains(&format!("| `{name}` |")))
        .map(|(name, file)| format!("{name} ({})", file.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "tables without a row in docs/storage.md (name, owner, key, value, purpose): {missing:?}"
    );
}

#[test]
fn a_store_written_by_schema_version_2_opens_migrates_and_reads() {
    // A copy: opening migrates in place, and the checked-in file must stay version 2.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("voltvend.redb");
    std::fs::copy(root().join("tests/vectors/store-v2.redb"), &path).expect("copy the vector");

    let store = Store::open(&path).expect("today's voltvend opens a version 2 store");
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);

    // The example site, as tests/vectors/make-store-v2.sh imported it.
    let buildings = repo::list_buildings(&store).expect("buildings");
    assert_eq!(buildings.len(), 2);
    assert_eq!(repo::list_units(&store).expect("units").len(), 8);
    assert_eq!(repo::list_gateways(&store).expect("gateways").len(), 2);
    assert_eq!(repo::list_meters(&store).expect("meters").len(), 10);
    assert_eq!(repo::list_tenants(&store).expect("tenants").len(), 7);
    let a101 = repo::meters_of_unit(&store, &"A-101".into()).expect("unit index");
    assert!(a101.iter().any(|m| m.id.as_str() == "A101-1"), "{a101:?}");
    assert!(
        repo::effective_tariff(&store, "default")
            .expect("tariff")
            .is_some()
    );

    // The ledger: one account opened with ¥0 and one sale of ¥50.
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let account = ledger
        .account(&TenantId::new("T0001"))
        .expect("account")
        .expect("T0001 has an account");
    assert_eq!(account.balance, Fen(5000));
    let report = ledger.verify().expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.operations, 2);

    // The audit chain written by the old file's commands is intact.
    let chain = audit::verify(&store).expect("audit");
    assert!(chain.is_intact(), "{:?}", chain.first_problem);
    assert!(
        chain.entries >= 2 + 2 + 8 + 2 + 10 + 7,
        "{} entries",
        chain.entries
    );
}
