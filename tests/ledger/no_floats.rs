//! No floating point on money or energy paths.
//!
//! Rule: the tokens `f32`/`f64` and float literals (`1.5`, `2e3`, `1f64`) are forbidden in
//! src/units.rs, src/tariff/, src/ledger/, src/store/, src/payment/ and src/receipt/, with no
//! way out. Everywhere else under src/ and tui/src/ they are forbidden too, unless the file
//! says why it needs them with a comment `// floats-ok: <reason>` (e.g. a chart's scale).
//! Comments and string literals are skipped, so "0.8523" in a doc or a message is fine.
//! Each offence is reported as `file:line: what`.

use std::path::{Path, PathBuf};

/// Paths (relative to the workspace root, `/`-separated) where floats are never allowed.
const MONEY_PATHS: &[&str] = &[
    "src/units.rs",
    "src/tariff/",
    "src/ledger/",
    "src/store/",
    "src/payment/",
    "src/receipt/",
];

const OPT_OUT: &str = "// floats-ok:";

/// One float found in code: 1-based line and what it was.
#[derive(Debug, PartialEq, Eq)]
struct Float {
    line: usize,
    what: String,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Scans Rust source for floats outside comments and string/char literals.
fn find_floats(src: &str) -> Vec<Float> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_len(&chars[i..]) {
            line += chars[i..i + len].iter().filter(|c| **c == '\n').count();
            i += len;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word == "f32" || word == "f64" {
                out.push(Float { line, what: word });
            }
        } else if c.is_ascii_digit() {
            let start = i;
            let after_dot = i > 0 && chars[i - 1] == '.';
            if let Some(float) = number_len(&chars[i..], after_dot) {
                i += float.0;
                if float.1 {
                    out.push(Float {
                        line,
                        what: format!(
                            "float literal {}",
                            chars[start..i].iter().collect::<String>()
                        ),
                    });
                }
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Length of a raw (byte) string literal starting here: r"..", r#".."#, br#".."#.
fn raw_string_len(s: &[char]) -> Option<usize> {
    let mut i = 0;
    if s.first() == Some(&'b') {
        i += 1;
    }
    if s.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let mut hashes = 0;
    while s.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    if s.get(i) != Some(&'"') {
        return None;
    }
    i += 1;
    while i < s.len() {
        if s[i] == '"' && (0..hashes).all(|k| s.get(i + 1 + k) == Some(&'#')) {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(s.len())
}

/// Length of a number literal starting here and whether it is a float. After a `.` it is a
/// tuple index (`pair.0`), never a float.
fn number_len(s: &[char], after_dot: bool) -> Option<(usize, bool)> {
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    let mut i = 0;
    if after_dot {
        while at(i).is_ascii_digit() {
            i += 1;
        }
        return Some((i, false));
    }
    if at(0) == '0' && matches!(at(1), 'x' | 'o' | 'b') {
        i = 2;
        while at(i).is_ascii_hexdigit() || at(i) == '_' {
            i += 1;
        }
    } else {
        let mut float = false;
        while at(i).is_ascii_digit() || at(i) == '_' {
            i += 1;
        }
        // `1.5` is a float; `1..5` is a range and `1.max(2)` a method call.
        if at(i) == '.' && at(i + 1) != '.' && !is_ident_start(at(i + 1)) {
            float = true;
            i += 1;
            while at(i).is_ascii_digit() || at(i) == '_' {
                i += 1;
            }
        }
        if matches!(at(i), 'e' | 'E')
            && (at(i + 1).is_ascii_digit()
                || (matches!(at(i + 1), '+' | '-') && at(i + 2).is_ascii_digit()))
        {
            float = true;
            i += 2;
            while at(i).is_ascii_digit() || at(i) == '_' {
                i += 1;
            }
        }
        let rest: String = s[i..s.len().min(i + 3)].iter().collect();
        if rest == "f32" || rest == "f64" {
            float = true;
            i += 3;
        }
        return Some((i, float));
    }
    // Integer suffixes (u8, i64, usize…) are left to the identifier scanner, harmlessly.
    Some((i, false))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The reason given by a `// floats-ok: <reason>` comment, if the file has one.
fn opt_out_reason(src: &str) -> Option<&str> {
    src.lines().find_map(|l| {
        let reason = l.trim_start().strip_prefix(OPT_OUT)?.trim();
        (!reason.is_empty()).then_some(reason)
    })
}

#[test]
fn no_floats_on_money_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tui/src"), &mut files);
    let mut offences = Vec::new();
    let mut scanned = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let money = MONEY_PATHS.iter().any(|p| rel.starts_with(p));
        scanned.push(rel.clone());
        let floats = find_floats(&src);
        if floats.is_empty() || (!money && opt_out_reason(&src).is_some()) {
            continue;
        }
        for f in floats {
            let why = if money {
                "money/energy path, floats never allowed"
            } else {
                "add `// floats-ok: <reason>` if this file truly needs floats"
            };
            offences.push(format!("{rel}:{}: {} ({why})", f.line, f.what));
        }
    }
    // The scan must have seen the money paths, or it proves nothing.
    assert!(scanned.iter().any(|f| f == "src/units.rs"), "{scanned:?}");
    assert!(scanned.iter().any(|f| f.starts_with("src/tariff/")));
    assert!(
        offences.is_empty(),
        "floating point found:\n{}",
        offences.join("\n")
    );
}

#[test]
fn scanner_finds_float_types_and_literals_with_their_lines() {
    let src = "fn a() {\n    let x: f64 = 1.5;\n    let y = 2e3 + 7f32 as f32;\n    let z = 1_000.25_f64;\n}\n";
    let found: Vec<(usize, String)> = find_floats(src)
        .into_iter()
        .map(|f| (f.line, f.what))
        .collect();
    assert_eq!(
        found,
        vec![
            (2, "f64".to_string()),
            (2, "float literal 1.5".to_string()),
            (3, "float literal 2e3".to_string()),
            (3, "float literal 7f32".to_string()),
            (3, "f32".to_string()),
            (4, "float literal 1_000.25_f64".to_string()),
        ]
    );
}

#[test]
fn scanner_ignores_comments_strings_ranges_tuples_and_hex() {
    let src = r##"
        // a price of 0.85 per kWh in f64 would be wrong
        /* nested /* 1.5 */ f32 */
        /// doc: 12.34 yuan
        let s = "0.8523 f64";
        let r = r#"1.5 "f32" "#;
        let b = b"2.5";
        let c = '.';
        let q = '\'';
        fn life<'a>(x: &'a str) {}
        let t = pair.0.1;
        let range = 0..10;
        let m = 1.max(2);
        let h = 0x1e5;
        let big = 1_000_000i64;
        let e = Wh(1000);
    "##;
    assert_eq!(find_floats(src), vec![]);
    // A float after a lifetime or char literal is still seen.
    let src = "fn f<'a>() { let c = 'x'; let v = 0.5; }";
    assert_eq!(
        find_floats(src),
        vec![Float {
            line: 1,
            what: "float literal 0.5".into()
        }]
    );
}

#[test]
fn opt_out_needs_a_reason() {
    assert_eq!(
        opt_out_reason("// floats-ok: gauge scale\nlet x: f64 = 0.0;"),
        Some("gauge scale")
    );
    assert_eq!(opt_out_reason("// floats-ok:\nlet x: f64 = 0.0;"), None);
    assert_eq!(opt_out_reason("let x: f64 = 0.0;"), None);
}
