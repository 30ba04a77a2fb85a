//! The engine's modules import each other in one direction only: a cycle (a module using one
//! that uses it, directly or around a loop) fails this test, naming the modules in it. Read
//! from the sources: every `super::…` and `crate::…` path outside `#[cfg(test)]` code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `sync::apply` for `src/sync/apply.rs`, `sync` for `src/sync/mod.rs`; `None` for test files.
fn module_of(src: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    let last = parts.last()?;
    if last == "lib" || last == "tests" || last.ends_with("_tests") {
        return None;
    }
    Some(parts)
}

/// The module a path like `super::plan::PipePlan` or `crate::store::dn_key` names, if any.
fn target(src: &Path, from: &[String], is_mod_file: bool, base: &str, rest: &str) -> Vec<String> {
    let mut path: Vec<String> = match base {
        "super" if is_mod_file => from.to_vec(),
        "super" => from[..from.len() - 1].to_vec(),
        _ => Vec::new(),
    };
    // Follow the path as long as it names module files.
    for segment in rest.split("::").take_while(|s| !s.is_empty()) {
        let mut candidate = path.clone();
        candidate.push(segment.to_owned());
        let file = src.join(candidate.join("/"));
        if file.with_extension("rs").exists() || file.join("mod.rs").exists() {
            path = candidate;
        } else {
            break;
        }
    }
    path
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // Code only: not the tests, not comments (which may name modules freely).
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let code = code.as_str();
        let is_mod_file = file.ends_with("mod.rs");
        let name = module.join("::");
        let deps = edges.entry(name.clone()).or_default();
        let mut rest = code;
        while let Some(at) = rest.find(['s', 'c']) {
            let tail = &rest[at..];
            let base = ["super::", "crate::"]
                .into_iter()
                .find(|b| tail.starts_with(b));
            let preceded_by_ident = at > 0
                && rest[..at]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if let (Some(b), false) = (base, preceded_by_ident) {
                let path: String = tail[b.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let to = target(&src, &module, is_mod_file, b.trim_end_matches("::"), &path);
                let to = to.join("::");
                // A module's own submodules and parents are not dependencies between peers.
                if !to.is_empty() && !name.starts_with(&to) && !to.starts_with(&format!("{name}::"))
                {
                    deps.insert(to);
                }
            }
            rest = &rest[at + 1..];
        }
    }
    edges
}

/// Strongly connected groups of more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let Some((w, _)) = s.graph.get_key_value(w.as_str()) else {
                continue;
            };
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                s.low.insert(v, s.low[v].min(lw));
            } else if s.stack.contains(&w.as_str()) {
                let iw = s.index[w.as_str()];
                s.low.insert(v, s.low[v].min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                group.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn modules_import_each_other_in_one_direction_only() {
    let graph = graph();
    assert!(
        graph
            .get("sync::apply")
            .is_some_and(|d| d.contains("sync::plan")),
        "{:?}",
        graph.get("sync::apply")
    );
    // Between top-level modules, and between the modules inside each.
    let top = |m: &str| m.split("::").next().unwrap().to_owned();
    let mut tops: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in &graph {
        let entry = tops.entry(top(from)).or_default();
        entry.extend(to.iter().map(|t| top(t)).filter(|t| *t != top(from)));
    }
    let mut found = cycles(&tops);
    for parent in tops.keys() {
        let inner: BTreeMap<String, BTreeSet<String>> = graph
            .iter()
            .filter(|(m, _)| top(m) == *parent && m.contains("::"))
            .map(|(m, to)| {
                let to = to.iter().filter(|t| top(t) == *parent && t.contains("::"));
                (m.clone(), to.cloned().collect())
            })
            .collect();
        found.extend(cycles(&inner));
    }
    assert!(found.is_empty(), "import cycles: {found:?}");
}
