//! The voltvend crate's modules import each other without a cycle, and the protocol codecs
//! depend on nothing in the crate but `units`.
//!
//! Every file under src/ (but the binary's src/main.rs) is a node; an edge runs from a file to
//! each file whose items it names: `use crate::…`, `use super::…`, `self::…`, a child module
//! by name, and paths in code such as `crate::site::repo::get(…)` or `repo::get(…)` after
//! `use crate::site::repo`. A path is followed through re-exports (`pub use model::Meter` in
//! site/mod.rs leads to site/model.rs) and stops at the last file it reaches, so
//! `crate::store::Store` is an edge to src/store/mod.rs. Comments and string literals are
//! skipped. Rules:
//! - At every level of the module tree the children of a module form no cycle, an edge
//!   between two files counting for the two children of the module that holds both (see
//!   [`cycles`]). A module's own file and its parts are no cycle: store/mod.rs re-exports
//!   store/backup.rs, which uses the `Store` defined in store/mod.rs.
//! - A file under src/protocol/ reaches only src/protocol/ and the leaf modules units.rs and
//!   toml_pos.rs, which reach nothing.
//!
//! A failure names each cycle with one `file:line -> file` edge for each step.

use crate::support::source::raw_string_len;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path below the crate root, e.g. `["site", "repo"]`; `[]` is the root.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Semi,
    Comma,
    Star,
    Other,
}

/// Splits Rust source into the tokens that matter for paths, with 1-based lines; comments,
/// string, char and number literals and lifetimes become nothing or `Other`.
fn tokens(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    // Advances over `c[i..j]`, counting newlines.
    let skip_to = |i: usize, j: usize, line: &mut usize| {
        *line += c[i..j.min(c.len())]
            .iter()
            .filter(|&&ch| ch == '\n')
            .count();
        j.min(c.len())
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let (mut j, mut depth) = (i, 0);
            while j < c.len() {
                if c[j] == '/' && at(j + 1) == '*' {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && at(j + 1) == '/' {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            i = skip_to(i, j, &mut line);
        } else if let Some(len) = raw_string_len(&c[i..]) {
            i = skip_to(i, i + len, &mut line);
        } else if ch == '"' || (ch == 'b' && at(i + 1) == '"') {
            let mut j = i + if ch == 'b' { 2 } else { 1 };
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            i = skip_to(i, j + 1, &mut line);
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{41}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                let mut j = i + 2;
                while j < c.len() && c[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
            out.push((Tok::Other, line));
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let tok = if ch.is_ascii_digit() {
                Tok::Other
            } else {
                Tok::Ident(word)
            };
            out.push((tok, line));
        } else {
            let tok = match ch {
                ':' if at(i + 1) == ':' => {
                    i += 1;
                    Tok::PathSep
                }
                '{' => Tok::Open,
                '}' => Tok::Close,
                ';' => Tok::Semi,
                ',' => Tok::Comma,
                '*' => Tok::Star,
                '\n' => {
                    line += 1;
                    i += 1;
                    continue;
                }
                c if c.is_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Tok::Other,
            };
            out.push((tok, line));
            i += 1;
        }
    }
    out
}

/// One `use` leaf: the path as written and the name it binds (`None` for a glob).
#[derive(Debug, Clone)]
struct UseLeaf {
    path: Vec<String>,
    binds: Option<String>,
    line: usize,
}

/// What one scope (a file, or an inline `mod x { … }` in it) imports and names.
#[derive(Debug, Default)]
struct Scope {
    uses: Vec<UseLeaf>,
    /// Paths in code (at least two segments), as written.
    paths: Vec<(Vec<String>, usize)>,
    inline_children: BTreeSet<String>,
}

/// One source file of the crate.
#[derive(Debug)]
struct File {
    name: String,
    module: ModPath,
    /// Scopes by logical module path (the file's own first).
    scopes: BTreeMap<ModPath, Scope>,
    /// Item names the file defines (`fn x`, `struct X`, …), to follow glob re-exports.
    defines: BTreeSet<String>,
}

/// Parses a use tree starting at `toks[*i]` (after `use`), up to the closing `;`.
fn use_tree(toks: &[(Tok, usize)], i: &mut usize, prefix: &[String], out: &mut Vec<UseLeaf>) {
    let mut path = prefix.to_vec();
    while let Some((tok, line)) = toks.get(*i) {
        match tok {
            Tok::Ident(w) if w == "as" => {
                *i += 1;
                if let Some((Tok::Ident(alias), _)) = toks.get(*i) {
                    out.push(UseLeaf {
                        path: std::mem::take(&mut path),
                        binds: Some(alias.clone()),
                        line: *line,
                    });
                }
                *i += 1;
            }
            Tok::Ident(w) => {
                path.push(w.clone());
                *i += 1;
            }
            Tok::PathSep => *i += 1,
            Tok::Star => {
                out.push(UseLeaf {
                    path: std::mem::take(&mut path),
                    binds: None,
                    line: *line,
                });
                *i += 1;
            }
            Tok::Open => {
                *i += 1;
                use_tree(toks, i, &path, out);
                path.clear();
            }
            Tok::Comma | Tok::Close | Tok::Semi | Tok::Other => {
                if path.len() > prefix.len() {
                    let last = path.last().cloned();
                    // `use a::b::{self}` binds `b` to `a::b`.
                    let binds = if last.as_deref() == Some("self") {
                        path.pop();
                        path.last().cloned()
                    } else {
                        last
                    };
                    out.push(UseLeaf {
                        path: std::mem::take(&mut path),
                        binds,
                        line: *line,
                    });
                }
                path = prefix.to_vec();
                *i += 1;
                if matches!(tok, Tok::Close | Tok::Semi) {
                    return;
                }
            }
        }
    }
}

const ITEM_KEYWORDS: &[&str] = &[
    "fn", "struct", "enum", "const", "static", "type", "trait", "mod", "union",
];

fn parse_file(name: &str, module: ModPath, src: &str) -> File {
    let toks = tokens(src);
    let mut scopes: BTreeMap<ModPath, Scope> = BTreeMap::new();
    scopes.insert(module.clone(), Scope::default());
    let mut defines = BTreeSet::new();
    // Inline modules open at a brace depth: (logical path, depth inside its braces).
    let mut stack: Vec<(ModPath, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    let ident = |i: usize| match toks.get(i) {
        Some((Tok::Ident(w), _)) => Some(w.as_str()),
        _ => None,
    };
    while i < toks.len() {
        let here = stack.last().map_or(module.clone(), |s| s.0.clone());
        let (tok, line) = &toks[i];
        // `#[cfg(test)] mod NAME { … }`: unit tests may wire real neighbours together (a
        // suspect-reading test charging through the real ledger charger); the layering rule
        // is about the code that ships, so an inline test module adds no edge.
        if matches!(tok, Tok::Ident(w) if w == "cfg")
            && ident(i + 2) == Some("test")
            && ident(i + 5) == Some("mod")
            && toks.get(i + 7).map(|t| &t.0) == Some(&Tok::Open)
        {
            let mut level = 0usize;
            let mut j = i + 7;
            while let Some((t, _)) = toks.get(j) {
                match t {
                    Tok::Open => level += 1,
                    Tok::Close => {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            i = j + 1;
            continue;
        }
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => {
                if stack.last().is_some_and(|s| s.1 == depth) {
                    stack.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(w) if w == "use" => {
                i += 1;
                let mut leaves = Vec::new();
                use_tree(&toks, &mut i, &[], &mut leaves);
                scopes.entry(here).or_default().uses.extend(leaves);
                continue;
            }
            Tok::Ident(w) if ITEM_KEYWORDS.contains(&w.as_str()) || w == "macro_rules" => {
                let at = if w == "macro_rules" { i + 2 } else { i + 1 };
                if let Some(n) = ident(at) {
                    defines.insert(n.to_string());
                }
                if w == "mod"
                    && let (Some(n), Some((Tok::Open, _))) = (ident(i + 1), toks.get(i + 2))
                {
                    let mut path = here.clone();
                    path.push(n.to_string());
                    scopes
                        .entry(here.clone())
                        .or_default()
                        .inline_children
                        .insert(n.to_string());
                    scopes.entry(path.clone()).or_default();
                    stack.push((path, depth + 1));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(first)
                if toks.get(i + 1).map(|t| &t.0) == Some(&Tok::PathSep)
                    && (i == 0 || toks[i - 1].0 != Tok::PathSep) =>
            {
                let mut path = vec![first.clone()];
                let mut j = i + 2;
                while let Some(seg) = ident(j) {
                    path.push(seg.to_string());
                    if toks.get(j + 1).map(|t| &t.0) != Some(&Tok::PathSep) {
                        break;
                    }
                    j += 2;
                }
                scopes.entry(here).or_default().paths.push((path, *line));
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    File {
        name: name.to_string(),
        module,
        scopes,
        defines,
    }
}

/// The crate as parsed: files by module path, and the resolution of paths to files.
struct Crate {
    files: BTreeMap<ModPath, File>,
}

impl Crate {
    /// `files`: (path relative to src/ with `/`, source). `lib.rs` is the root.
    fn parse(files: &[(String, String)]) -> Crate {
        let mut out = BTreeMap::new();
        for (name, src) in files {
            let Some(module) = module_of(name) else {
                continue;
            };
            out.insert(module.clone(), parse_file(name, module, src));
        }
        Crate { files: out }
    }

    /// The file a logical module path lives in (inline modules live in their file).
    fn file_of(&self, logical: &[String]) -> &File {
        (0..=logical.len())
            .rev()
            .find_map(|n| self.files.get(&logical[..n]))
            .unwrap_or_else(|| &self.files[&Vec::new()])
    }

    /// Makes a path written in `scope` absolute, or `None` when it leaves the crate (std,
    /// a dependency) or names a local item, a type's method, `Self`, ….
    fn absolute(&self, scope: &[String], path: &[String], guard: usize) -> Option<ModPath> {
        let (first, rest) = path.split_first()?;
        let mut base: ModPath = match first.as_str() {
            "crate" => Vec::new(),
            "self" => scope.to_vec(),
            "super" => {
                let mut s = scope.to_vec();
                s.pop();
                let mut rest = rest;
                while rest.first().map(String::as_str) == Some("super") {
                    s.pop();
                    rest = &rest[1..];
                }
                s.extend(rest.iter().cloned());
                return Some(s);
            }
            name => {
                let file = self.file_of(scope);
                let sc = file.scopes.get(scope)?;
                // A child module first: a name cannot be both a child and an import, and
                // `pub use child::*` would otherwise look `child` up through itself.
                if sc.inline_children.contains(name)
                    || (file.module.as_slice() == scope && self.is_module(scope, name))
                {
                    let mut p = scope.to_vec();
                    p.push(name.to_string());
                    p
                } else {
                    self.alias(scope, name, guard)?
                }
            }
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn is_module(&self, parent: &[String], name: &str) -> bool {
        let mut p = parent.to_vec();
        p.push(name.to_string());
        self.files.contains_key(&p)
    }

    /// What `name` is bound to by a `use` in `scope` (or a glob of a scope of the same file,
    /// as `use super::*;` in a test module), as an absolute path.
    fn alias(&self, scope: &[String], name: &str, guard: usize) -> Option<ModPath> {
        if guard > 16 {
            return None;
        }
        let sc = self.file_of(scope).scopes.get(scope)?;
        for leaf in &sc.uses {
            if leaf.binds.as_deref() == Some(name) {
                return self.absolute(scope, &leaf.path, guard + 1);
            }
        }
        for leaf in sc.uses.iter().filter(|l| l.binds.is_none()) {
            let target = self.absolute(scope, &leaf.path, guard + 1)?;
            let same_file = self.file_of(&target).module == self.file_of(scope).module;
            if same_file
                && target != scope
                && let Some(t) = self.alias(&target, name, guard + 1)
            {
                return Some(t);
            }
        }
        None
    }

    /// The file an absolute path leads to, following re-exports.
    fn resolve(&self, path: &[String], guard: usize) -> ModPath {
        let mut cur: ModPath = Vec::new();
        for (n, seg) in path.iter().enumerate() {
            if guard > 16 {
                break;
            }
            if self.is_module(&cur, seg) {
                cur.push(seg.clone());
                continue;
            }
            let file = &self.files[&cur];
            if let Some(target) = self.alias(&cur, seg, guard + 1) {
                let mut whole = target;
                whole.extend(path[n + 1..].iter().cloned());
                return self.resolve(&whole, guard + 1);
            }
            let globs = file.scopes[&cur].uses.iter().filter(|l| l.binds.is_none());
            for leaf in globs {
                if let Some(target) = self.absolute(&cur, &leaf.path, guard + 1) {
                    let to = self.resolve(&target, guard + 1);
                    if self.files.get(&to).is_some_and(|f| f.defines.contains(seg)) {
                        let mut whole = to;
                        whole.extend(path[n + 1..].iter().cloned());
                        return self.resolve(&whole, guard + 1);
                    }
                }
            }
            break;
        }
        cur
    }

    /// Every edge between files: (from, to) → first line of `from` naming `to`.
    fn edges(&self) -> BTreeMap<(ModPath, ModPath), usize> {
        let mut out = BTreeMap::new();
        for file in self.files.values() {
            for (scope, sc) in &file.scopes {
                let written = sc
                    .uses
                    .iter()
                    .map(|l| (&l.path, l.line))
                    .chain(sc.paths.iter().map(|(p, l)| (p, *l)));
                for (path, line) in written {
                    let Some(abs) = self.absolute(scope, path, 0) else {
                        continue;
                    };
                    let to = self.resolve(&abs, 0);
                    if to == file.module {
                        continue;
                    }
                    out.entry((file.module.clone(), to)).or_insert(line);
                }
            }
        }
        out
    }
}

/// The module path of a file under src/ (`site/repo.rs` → site::repo); `None` for main.rs.
fn module_of(name: &str) -> Option<ModPath> {
    if name == "main.rs" || !name.ends_with(".rs") {
        return None;
    }
    let mut parts: Vec<String> = name
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    Some(parts)
}

fn show(c: &Crate, m: &ModPath) -> String {
    format!("src/{}", c.files[m].name)
}

/// A cycle in one graph: the nodes in order, the way back to the first implied.
fn find_cycles<N: Ord + Clone>(next: &BTreeMap<N, Vec<N>>) -> Vec<Vec<N>> {
    let mut seen: BTreeSet<N> = BTreeSet::new();
    let mut out = Vec::new();
    for start in next.keys() {
        if seen.contains(start) {
            continue;
        }
        // The shortest way back to `start`, breadth first.
        let mut came: BTreeMap<&N, &N> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        'search: while let Some(at) = queue.pop_front() {
            for to in next.get(at).into_iter().flatten() {
                if to == start {
                    came.insert(start, at);
                    break 'search;
                }
                if !came.contains_key(to) && !seen.contains(to) {
                    came.insert(to, at);
                    queue.push_back(to);
                }
            }
        }
        let Some(mut at) = came.get(start).copied() else {
            continue;
        };
        let mut back = Vec::new();
        while at != start {
            back.push(at.clone());
            at = came[at];
        }
        let ring: Vec<N> = std::iter::once(start.clone())
            .chain(back.into_iter().rev())
            .collect();
        seen.extend(ring.iter().cloned());
        out.push(ring);
    }
    out
}

/// Each cycle, as `a -> b -> a` between sibling modules with one file edge that ties each
/// step (`src/a/x.rs:12 -> src/b.rs`).
///
/// Modules are checked level by level: an edge between two files counts as an edge between
/// the two different children of the module that holds both (src/store/schema.rs ->
/// src/site/repo.rs is store -> site), and the children of every module must form no cycle.
/// This finds every cycle between files where none holds another, and also a cycle that
/// passes through a module's own file (store/schema.rs -> site/repo.rs -> store/mod.rs).
fn cycles(c: &Crate) -> Vec<String> {
    let mut levels: BTreeMap<ModPath, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut example: BTreeMap<(ModPath, String, String), String> = BTreeMap::new();
    for ((from, to), line) in c.edges() {
        if from.starts_with(&to) || to.starts_with(&from) {
            continue;
        }
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        let (a, b) = (from[common].clone(), to[common].clone());
        let parent = from[..common].to_vec();
        let next = levels.entry(parent.clone()).or_default();
        next.entry(b.clone()).or_default();
        let outs = next.entry(a.clone()).or_default();
        if !outs.contains(&b) {
            outs.push(b.clone());
        }
        example
            .entry((parent, a, b))
            .or_insert_with(|| format!("{}:{line} -> {}", show(c, &from), show(c, &to)));
    }
    let mut out = Vec::new();
    for (parent, next) in &levels {
        for ring in find_cycles(next) {
            let name = |m: &String| {
                let mut p = parent.clone();
                p.push(m.clone());
                p.join("::")
            };
            let mut text = name(&ring[0]);
            for (k, from) in ring.iter().enumerate() {
                let to = &ring[(k + 1) % ring.len()];
                let why = &example[&(parent.clone(), from.clone(), to.clone())];
                text.push_str(&format!(" -> {} ({why})", name(to)));
            }
            out.push(text);
        }
    }
    out
}

/// Modules that use nothing else of the crate, which the protocol codecs may use: the exact
/// units (money, energy, prices) and the TOML position helper.
const LEAVES: &[&str] = &["units", "toml_pos"];

/// Edges that break the layering: a file under src/protocol/ reaching outside it other than
/// to a leaf, or a leaf reaching anything.
fn protocol_leaks(c: &Crate) -> Vec<String> {
    let protocol = vec!["protocol".to_string()];
    let leaf = |m: &ModPath| m.len() == 1 && LEAVES.contains(&m[0].as_str());
    c.edges()
        .into_iter()
        .filter(|((from, to), _)| {
            (from.starts_with(&protocol) && !to.starts_with(&protocol) && !leaf(to)) || leaf(from)
        })
        .map(|((from, to), line)| format!("{}:{line} -> {}", show(c, &from), show(c, &to)))
        .collect()
}

fn read_src(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if path.is_dir() {
            read_src(&path, &rel, out);
        } else if rel.ends_with(".rs") {
            let src = std::fs::read_to_string(&path).unwrap();
            out.push((rel, src));
        }
    }
}

fn voltvend() -> Crate {
    let mut files = Vec::new();
    read_src(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut files,
    );
    Crate::parse(&files)
}

#[test]
fn voltvend_modules_import_no_cycle() {
    let c = voltvend();
    assert!(c.files.len() > 100, "src/ was not read");
    let found = cycles(&c);
    assert!(
        found.is_empty(),
        "import cycles between modules of the voltvend crate (break each by moving the shared \
         part below both):\n{}",
        found.join("\n")
    );
}

#[test]
fn protocol_depends_on_nothing_but_leaf_modules() {
    let c = voltvend();
    let leaks = protocol_leaks(&c);
    assert!(
        leaks.is_empty(),
        "src/protocol/ is the pure codec layer: it may use itself and the leaf modules {LEAVES:?} \
         only, and those use nothing of the crate:\n{}",
        leaks.join("\n")
    );
}

fn tiny(files: &[(&str, &str)]) -> Crate {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    Crate::parse(&files)
}

#[test]
fn the_check_finds_cycles_through_uses_paths_and_reexports() {
    let c = tiny(&[
        (
            "lib.rs",
            "pub mod a; pub mod b; pub mod c; pub mod protocol; pub mod units;",
        ),
        ("a/mod.rs", "mod x; pub use x::Thing;"),
        ("a/x.rs", "pub struct Thing; fn f() { crate::b::g(); }"),
        ("b.rs", "use crate::c; pub fn g() { c::h(); }"),
        (
            "c.rs",
            "// use crate::b;\n pub fn h() { let _ = \"crate::b::g\"; }\n",
        ),
        ("protocol/mod.rs", "pub mod y; use crate::units::Fen;"),
        (
            "protocol/y.rs",
            "use super::super::c::h; mod tests { use super::*; }",
        ),
        ("units.rs", "pub struct Fen;"),
    ]);
    // Comments and strings name nothing: no cycle yet.
    assert_eq!(cycles(&c), Vec::<String>::new());
    assert_eq!(protocol_leaks(&c), ["src/protocol/y.rs:1 -> src/c.rs"]);
    let c = tiny(&[
        ("lib.rs", "pub mod b; pub mod units;"),
        ("b.rs", "pub fn g() {}"),
        ("units.rs", "fn f() { crate::b::g(); }"),
    ]);
    assert_eq!(protocol_leaks(&c), ["src/units.rs:1 -> src/b.rs"]);

    let c = tiny(&[
        ("lib.rs", "pub mod a; pub mod b; pub mod c;"),
        ("a/mod.rs", "mod x; pub use x::Thing;"),
        ("a/x.rs", "pub struct Thing;\nfn f() { crate::b::g(); }"),
        ("b.rs", "use crate::c;\npub fn g() { c::h(); }"),
        ("c.rs", "use crate::{a::{self, Thing as T}};\npub fn h() {}"),
    ]);
    assert_eq!(
        cycles(&c),
        [
            "a -> b (src/a/x.rs:2 -> src/b.rs) -> c (src/b.rs:1 -> src/c.rs) \
          -> a (src/c.rs:1 -> src/a/mod.rs)"
        ]
    );
}

#[test]
fn a_module_and_its_parts_are_no_cycle_but_a_way_through_its_file_is() {
    let parts = [
        ("lib.rs", "pub mod s; pub mod t;"),
        (
            "s/mod.rs",
            "pub mod k; pub struct Store; pub fn open() { k::x(); }",
        ),
        (
            "s/k.rs",
            "use super::Store; pub fn x() {}\n#[cfg(test)]\nmod tests { use super::*; fn t() { x(); } }",
        ),
        ("t.rs", "use crate::s::Store;"),
    ];
    let c = tiny(&parts);
    assert_eq!(cycles(&c), Vec::<String>::new());
    let edges: Vec<String> = c
        .edges()
        .into_keys()
        .map(|(a, b)| format!("{} -> {}", a.join("::"), b.join("::")))
        .collect();
    assert_eq!(edges, ["s -> s::k", "s::k -> s", "t -> s"]);

    // s/k.rs -> t.rs -> s/mod.rs: s and t need each other.
    let mut parts = parts.to_vec();
    parts[2].1 = "pub fn x() { crate::t::f(); }";
    let c = tiny(&parts);
    assert_eq!(
        cycles(&c),
        ["s -> t (src/s/k.rs:1 -> src/t.rs) -> s (src/t.rs:1 -> src/s/mod.rs)"]
    );
}
