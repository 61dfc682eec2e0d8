//! One writer for the store: outside `src/store/`, no code opens a write transaction of its
//! own. Every durable write goes through `Store::write` / `Store::write_async`, so writes
//! are group-committed on the store's writer thread and no fsync runs on an async worker.
//! Unit tests (a `tests.rs` file, or what follows `#[cfg(test)]`) may set up data directly.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, &mut *out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `file:line` of every `begin_write` in production code of `src` outside `src/store/`.
fn own_write_transactions(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = Vec::new();
    for path in files {
        let rel = path.strip_prefix(src).unwrap_or(&path);
        if rel.starts_with("store") || rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or("");
            if code.contains("begin_write") {
                found.push(format!("src/{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn only_the_store_writer_opens_write_transactions() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = own_write_transactions(&src);
    assert!(
        found.is_empty(),
        "write transactions opened outside the store writer (use Store::write or \
         Store::write_async):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_a_write_transaction_and_skips_unit_tests() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path();
    std::fs::create_dir_all(src.join("api")).expect("mkdir");
    std::fs::create_dir_all(src.join("store")).expect("mkdir");
    std::fs::write(
        src.join("api/x.rs"),
        "fn f(s: &Store) {\n    let t = s.db().begin_write();\n}\n// begin_write in a comment\n#[cfg(test)]\nmod tests { fn t() { begin_write(); } }\n",
    )
    .expect("write");
    std::fs::write(src.join("store/writer.rs"), "fn w() { begin_write(); }").expect("write");
    std::fs::write(src.join("api/tests.rs"), "fn t() { begin_write(); }").expect("write");
    assert_eq!(
        own_write_transactions(src),
        vec!["src/api/x.rs:2: let t = s.db().begin_write();".to_string()]
    );
}
