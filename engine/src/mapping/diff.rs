//! Bringing a SCIM resource in line with the wanted one: PATCH operations (RFC 7644 §3.5.2)
//! or a PUT body. Only attributes whose mapping has `fetch` and the phase's update usage
//! are compared — what is not fetched cannot be known to differ.

use super::EndpointMapper;
use super::references::reference_ids;
use super::resource::{Phase, Purpose, Resolved, usage_for};
use super::search::quote;
use super::values::same_instant;
use crate::config::{AttributeUsage, MappingSyntax, ValuePath};
use crate::sensitive::is_password_attribute;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOp {
    pub op: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl PatchOp {
    fn new(op: &str, path: String, value: Option<Value>) -> PatchOp {
        PatchOp {
            op: op.to_owned(),
            path: Some(path),
            value,
        }
    }

    /// Sets `active` (deactivating a resource instead of deleting it, and back).
    pub fn set_active(active: bool) -> PatchOp {
        PatchOp::new("replace", "active".to_owned(), Some(Value::Bool(active)))
    }
}

/// Case-insensitive member lookup (SCIM attribute names are case-insensitive).
pub(super) fn member<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn compared(r: &Resolved, update: AttributeUsage) -> bool {
    r.has(AttributeUsage::Fetch) && r.has(update)
}

fn child(parent: &str, name: &str) -> String {
    if parent.starts_with("urn:") {
        format!("{parent}:{name}")
    } else {
        format!("{parent}.{name}")
    }
}

/// Operations that turn `current` into `wanted` (both full resources; `wanted` mapped for update).
///
/// `touched` names the LDAP attributes (lower-cased) the change being applied modified. A
/// mapping without `fetch` cannot be compared, so it is written when the change touched its
/// attribute: replaced with the wanted value, or removed when there is none — except for a
/// password, whose absence means only that no clear text was available.
pub fn patch_operations(
    mapper: &EndpointMapper,
    wanted: &Value,
    current: &Value,
    phase: Phase,
    touched: &[String],
) -> Vec<PatchOp> {
    let update = usage_for(Purpose::Update, phase);
    let mut ops = Vec::new();
    let was_touched =
        |r: &Resolved| reads(r, &|a| touched.iter().any(|t| t.eq_ignore_ascii_case(a)));
    for r in attributes(mapper, update) {
        let name = r.scim_name().to_owned();
        if r.has(AttributeUsage::Fetch) {
            compare(
                r,
                name.clone(),
                member(wanted, &name),
                member(current, &name),
                update,
                &mut ops,
            );
        } else if was_touched(r) {
            match member(wanted, &name) {
                Some(w) => ops.push(PatchOp::new("replace", name, Some(w.clone()))),
                None if !reads(r, &is_password_attribute) => {
                    ops.push(PatchOp::new("remove", name, None))
                }
                None => {}
            }
        }
    }
    for group in elements(mapper, update) {
        element_ops(&group, wanted, current, update, &was_touched, &mut ops);
    }
    ops
}

/// Mappings with the `usage` that own a whole attribute, each attribute once: reference lists
/// that several mappings fill (`member`, `uniqueMember`) are compared as the one list they make.
fn attributes(mapper: &EndpointMapper, usage: AttributeUsage) -> Vec<&Resolved> {
    let mut out: Vec<&Resolved> = Vec::new();
    for r in mapper
        .mappings
        .iter()
        .filter(|r| r.has(usage) && r.path.is_none())
    {
        if !out
            .iter()
            .any(|o| o.scim_name().eq_ignore_ascii_case(r.scim_name()))
        {
            out.push(r);
        }
    }
    out
}

/// Value-path mappings with the update usage, grouped by the element they share
/// (`addresses[type eq "work"].locality` and `.postalCode` build one address).
fn elements(mapper: &EndpointMapper, update: AttributeUsage) -> Vec<Vec<&Resolved>> {
    let mut groups: Vec<Vec<&Resolved>> = Vec::new();
    for r in mapper.mappings.iter().filter(|r| r.has(update)) {
        let Some(path) = &r.path else { continue };
        match groups
            .iter_mut()
            .find(|g| g[0].path.as_ref().is_some_and(|p| p.same_element(path)))
        {
            Some(group) => group.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

fn path_of(r: &Resolved) -> &ValuePath {
    r.path
        .as_ref()
        .expect("element groups hold value-path mappings")
}

/// The element of `resource` a value path selects (the first, if the service holds several).
fn element<'a>(resource: &'a Value, path: &ValuePath) -> Option<&'a Value> {
    member(resource, &path.attribute)?
        .as_array()?
        .iter()
        .find(|e| path.selects(e))
}

/// PATCH operations for one element: add it whole when the resource lacks it, remove it when
/// no mapping wants a value any more, else replace or remove the sub-attributes that differ —
/// always through the value path, so the attribute's other elements stay as they are.
fn element_ops(
    group: &[&Resolved],
    wanted: &Value,
    current: &Value,
    update: AttributeUsage,
    was_touched: &dyn Fn(&Resolved) -> bool,
    ops: &mut Vec<PatchOp>,
) {
    let path = path_of(group[0]);
    let wanted_element = element(wanted, path);
    let current_element = element(current, path);
    let sub = |e: Option<&Value>, r: &Resolved| {
        e.and_then(|e| member(e, &path_of(r).sub_attribute))
            .filter(|v| !is_empty(v))
            .cloned()
    };
    let changes: Vec<(&Resolved, Option<Value>)> = group
        .iter()
        .filter_map(|r| {
            let w = sub(wanted_element, r);
            let differs = if r.has(AttributeUsage::Fetch) {
                !same(r, w.as_ref(), sub(current_element, r).as_ref(), update)
            } else {
                // Not fetched, so not comparable: written when the change touched it.
                was_touched(r) && (w.is_some() || !reads(r, &is_password_attribute))
            };
            differs.then_some((*r, w))
        })
        .collect();
    if changes.is_empty() {
        return;
    }
    match (wanted_element, current_element) {
        (Some(w), None) => ops.push(PatchOp::new(
            "add",
            path.attribute.clone(),
            Some(Value::Array(vec![w.clone()])),
        )),
        (None, Some(_)) => ops.push(PatchOp::new("remove", path.element_path(), None)),
        (None, None) => {}
        (Some(_), Some(_)) => {
            for (r, w) in changes {
                let target = format!("{}.{}", path.element_path(), path_of(r).sub_attribute);
                match w {
                    Some(w) => ops.push(PatchOp::new("replace", target, Some(w))),
                    None => ops.push(PatchOp::new("remove", target, None)),
                }
            }
        }
    }
}

/// Whether the mapping (or one of its sub-mappings) reads an LDAP attribute `matches` accepts.
fn reads(r: &Resolved, matches: &dyn Fn(&str) -> bool) -> bool {
    r.mapping.syntax.ldap_attribute().is_some_and(matches)
        || r.subs.iter().any(|s| reads(s, matches))
}

pub(super) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn compare(
    r: &Resolved,
    path: String,
    wanted: Option<&Value>,
    current: Option<&Value>,
    update: AttributeUsage,
    ops: &mut Vec<PatchOp>,
) {
    let current = current.filter(|c| !is_empty(c));
    if same(r, wanted, current, update) {
        return;
    }
    let (w, c) = match (wanted, current) {
        (None, None) => return,
        (None, Some(_)) => return ops.push(PatchOp::new("remove", path, None)),
        (Some(w), None) => return ops.push(PatchOp::new("add", path, Some(w.clone()))),
        (Some(w), Some(c)) => (w, c),
    };
    if r.mapping.always_patch_with_replace {
        return ops.push(PatchOp::new("replace", path, Some(w.clone())));
    }
    match (&r.mapping.syntax, w, c) {
        (MappingSyntax::ComposedComplex { .. }, Value::Object(_), Value::Object(_)) => {
            for sub in r.subs.iter().filter(|s| compared(s, update)) {
                let name = sub.scim_name();
                compare(
                    sub,
                    child(&path, name),
                    member(w, name),
                    member(c, name),
                    update,
                    ops,
                );
            }
        }
        (
            MappingSyntax::JsonFormattedComplex {
                single_valued: false,
                ..
            },
            Value::Array(w),
            Value::Array(c),
        ) => complex_array_ops(&path, w, c, ops),
        (
            MappingSyntax::Reference {
                single_valued: false,
                ..
            },
            Value::Array(w),
            Value::Array(c),
        ) => reference_array_ops(&path, w, c, ops),
        _ => ops.push(PatchOp::new("replace", path, Some(w.clone()))),
    }
}

/// Multi-valued references (group members): compared as sets of ids; the ids no longer
/// wanted are removed one by one through `members[value eq "id"]`, the new ones added in one
/// `add` — so one changed member of a large group is one small operation, never the full list.
fn reference_array_ops(path: &str, wanted: &[Value], current: &[Value], ops: &mut Vec<PatchOp>) {
    let id = |item: &Value| reference_ids(item).first().map(|s| s.to_string());
    let current_ids: Vec<String> = current.iter().filter_map(id).collect();
    let wanted_ids: Vec<String> = wanted.iter().filter_map(id).collect();
    let mut removed: Vec<&String> = current_ids
        .iter()
        .filter(|c| !wanted_ids.contains(c))
        .collect();
    removed.dedup();
    for gone in removed {
        ops.push(PatchOp::new(
            "remove",
            format!("{path}[value eq {}]", quote(gone)),
            None,
        ));
    }
    let added = wanted
        .iter()
        .filter(|w| id(w).is_some_and(|i| !current_ids.contains(&i)));
    add_values(path, added, ops);
}

/// One `add` of the values the resource lacks, if there are any.
fn add_values<'a>(path: &str, added: impl Iterator<Item = &'a Value>, ops: &mut Vec<PatchOp>) {
    let added: Vec<Value> = added.cloned().collect();
    if !added.is_empty() {
        ops.push(PatchOp::new(
            "add",
            path.to_owned(),
            Some(Value::Array(added)),
        ));
    }
}

/// Members added and removed by bringing `current` to `wanted`, over every multi-valued
/// Reference mapping that is compared (has `fetch`); `current` is `None` for a create.
pub fn reference_changes(
    mapper: &EndpointMapper,
    wanted: &Value,
    current: Option<&Value>,
    phase: Phase,
) -> (u64, u64) {
    fn walk(
        r: &Resolved,
        wanted: Option<&Value>,
        current: Option<&Value>,
        create: bool,
        totals: &mut (u64, u64),
    ) {
        match &r.mapping.syntax {
            MappingSyntax::Reference {
                single_valued: false,
                ..
            } if create || r.has(AttributeUsage::Fetch) => {
                let w = wanted.map(reference_ids).unwrap_or_default();
                let c = current.map(reference_ids).unwrap_or_default();
                totals.0 += w.iter().filter(|i| !c.contains(i)).count() as u64;
                totals.1 += c.iter().filter(|i| !w.contains(i)).count() as u64;
            }
            MappingSyntax::ComposedComplex { .. } => {
                for sub in &r.subs {
                    let name = sub.scim_name();
                    walk(
                        sub,
                        wanted.and_then(|w| member(w, name)),
                        current.and_then(|c| member(c, name)),
                        create,
                        totals,
                    );
                }
            }
            _ => {}
        }
    }
    let purpose = if current.is_some() {
        Purpose::Update
    } else {
        Purpose::Create
    };
    let usage = usage_for(purpose, phase);
    let mut totals = (0, 0);
    for r in attributes(mapper, usage) {
        let name = r.scim_name();
        walk(
            r,
            member(wanted, name),
            current.and_then(|c| member(c, name)),
            current.is_none(),
            &mut totals,
        );
    }
    totals
}

/// Splits operations into PATCH requests of at most `max` changes each, where each value of
/// an `add` of several counts as one change: such an `add` is cut to fill the requests, while
/// anything else is never split, so a `replace` (always-patch-with-replace) stays one operation.
pub fn chunk_operations(ops: Vec<PatchOp>, max: usize) -> Vec<Vec<PatchOp>> {
    let max = max.max(1);
    let mut requests: Vec<Vec<PatchOp>> = Vec::new();
    let mut load = max;
    let room = |requests: &mut Vec<Vec<PatchOp>>, load: &mut usize| {
        if *load >= max {
            requests.push(Vec::new());
            *load = 0;
        }
        max - *load
    };
    for op in ops {
        match (&op.op[..], &op.value) {
            ("add", Some(Value::Array(items))) if items.len() > 1 => {
                let mut rest = &items[..];
                while !rest.is_empty() {
                    let take = room(&mut requests, &mut load).min(rest.len());
                    let (piece, more) = rest.split_at(take);
                    requests.last_mut().expect("room made one").push(PatchOp {
                        value: Some(Value::Array(piece.to_vec())),
                        ..op.clone()
                    });
                    load += take;
                    rest = more;
                }
            }
            _ => {
                room(&mut requests, &mut load);
                requests.last_mut().expect("room made one").push(op);
                load += 1;
            }
        }
    }
    requests
}

/// Whether the current value already is the wanted one, by the mapping's syntax.
fn same(
    r: &Resolved,
    wanted: Option<&Value>,
    current: Option<&Value>,
    update: AttributeUsage,
) -> bool {
    let (w, c) = match (wanted, current) {
        (None, None) => return true,
        (Some(w), Some(c)) => (w, c),
        _ => return false,
    };
    match &r.mapping.syntax {
        MappingSyntax::ComposedComplex { .. } => {
            r.subs.iter().filter(|s| compared(s, update)).all(|s| {
                same(
                    s,
                    member(w, s.scim_name()),
                    member(c, s.scim_name()).filter(|v| !is_empty(v)),
                    update,
                )
            })
        }
        MappingSyntax::DateTime { .. } => {
            same_items(w, c, &|a, b| match (a.as_str(), b.as_str()) {
                (Some(x), Some(y)) => same_instant(x, y),
                _ => a == b,
            })
        }
        MappingSyntax::Number { .. } => same_items(w, c, &|a, b| {
            a.as_f64().is_some() && a.as_f64() == b.as_f64()
        }),
        MappingSyntax::JsonFormattedComplex { .. } => same_items(w, c, &subset),
        // References are the same when they name the same resources (display may differ).
        MappingSyntax::Reference { .. } => {
            let (mut ws, mut cs) = (reference_ids(w), reference_ids(c));
            ws.sort_unstable();
            ws.dedup();
            cs.sort_unstable();
            cs.dedup();
            ws == cs
        }
        _ => same_items(w, c, &|a, b| a == b),
    }
}

/// Single values compare directly; arrays as multisets (order is not significant).
fn same_items(w: &Value, c: &Value, eq: &dyn Fn(&Value, &Value) -> bool) -> bool {
    match (w, c) {
        (Value::Array(ws), Value::Array(cs)) => {
            if ws.len() != cs.len() {
                return false;
            }
            let mut used = vec![false; cs.len()];
            ws.iter().all(|x| {
                match cs
                    .iter()
                    .enumerate()
                    .position(|(i, y)| !used[i] && eq(x, y))
                {
                    Some(i) => {
                        used[i] = true;
                        true
                    }
                    None => false,
                }
            })
        }
        _ => eq(w, c),
    }
}

/// Every member of wanted `w` is in `c` with the same value (the service may add members).
fn subset(w: &Value, c: &Value) -> bool {
    match (w.as_object(), c.as_object()) {
        (Some(wo), Some(_)) => wo
            .iter()
            .all(|(k, v)| member(c, k) == Some(v) || (v.is_null() && member(c, k).is_none())),
        _ => w == c,
    }
}

fn item_value(item: &Value) -> Option<&str> {
    member(item, "value").and_then(Value::as_str)
}

/// Multi-valued complex attributes: remove and replace individual values through value
/// filters (`emails[value eq "x"]`), add new ones; a value without `value` forces a replace.
fn complex_array_ops(path: &str, wanted: &[Value], current: &[Value], ops: &mut Vec<PatchOp>) {
    if wanted
        .iter()
        .chain(current)
        .any(|i| item_value(i).is_none())
    {
        return ops.push(PatchOp::new(
            "replace",
            path.to_owned(),
            Some(Value::Array(wanted.to_vec())),
        ));
    }
    let filter = |v: &str| format!("{path}[value eq {}]", quote(v));
    for c in current {
        let v = item_value(c).unwrap_or_default();
        match wanted.iter().find(|w| item_value(w) == Some(v)) {
            None => ops.push(PatchOp::new("remove", filter(v), None)),
            Some(w) => {
                for (key, value) in w.as_object().into_iter().flatten() {
                    if member(c, key) != Some(value) {
                        ops.push(PatchOp::new(
                            "replace",
                            format!("{}.{key}", filter(v)),
                            Some(value.clone()),
                        ));
                    }
                }
            }
        }
    }
    let added = wanted
        .iter()
        .filter(|w| !current.iter().any(|c| item_value(c) == item_value(w)));
    add_values(path, added, ops);
}

/// The full resource for PUT: the current resource with every updatable mapped attribute set
/// to its wanted value (or removed, when fetched and no longer wanted); other attributes kept.
pub fn put_body(mapper: &EndpointMapper, wanted: &Value, current: &Value, phase: Phase) -> Value {
    let update = usage_for(Purpose::Update, phase);
    let mut body: Map<String, Value> = current.as_object().cloned().unwrap_or_default();
    body.remove("meta");
    for r in mapper
        .mappings
        .iter()
        .filter(|r| r.has(update) && r.path.is_none())
    {
        let name = r.scim_name();
        let wanted_value = member(wanted, name).cloned();
        if wanted_value.is_none() && !r.has(AttributeUsage::Fetch) {
            continue;
        }
        body.retain(|k, _| !k.eq_ignore_ascii_case(name));
        if let Some(v) = wanted_value {
            body.insert(name.to_owned(), v);
        }
    }
    for group in elements(mapper, update) {
        put_element(&mut body, &group, wanted);
    }
    let mut schemas: Vec<Value> = member(current, "schemas")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for s in member(wanted, "schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !schemas.contains(s) {
            schemas.push(s.clone());
        }
    }
    body.insert("schemas".into(), Value::Array(schemas));
    Value::Object(body)
}

/// One element in a PUT body: the service's element with the owned sub-attributes set to their
/// wanted values (others, such as `primary`, kept); dropped when nothing owned is left.
fn put_element(body: &mut Map<String, Value>, group: &[&Resolved], wanted: &Value) {
    let path = path_of(group[0]);
    let key = body
        .keys()
        .find(|k| k.eq_ignore_ascii_case(&path.attribute))
        .cloned()
        .unwrap_or_else(|| path.attribute.clone());
    let mut items = match body.remove(&key) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let index = items.iter().position(|e| path.selects(e));
    let wanted_element = element(wanted, path);
    let mut element = match index {
        Some(i) => items[i].as_object().cloned().unwrap_or_default(),
        None => Map::new(),
    };
    let mut owns_any = false;
    for r in group {
        let name = &path_of(r).sub_attribute;
        let w = wanted_element.and_then(|e| member(e, name)).cloned();
        if w.is_none() && !r.has(AttributeUsage::Fetch) {
            owns_any |= member(&Value::Object(element.clone()), name).is_some();
            continue;
        }
        element.retain(|k, _| !k.eq_ignore_ascii_case(name));
        if let Some(v) = w {
            element.insert(name.clone(), v);
            owns_any = true;
        }
    }
    if owns_any {
        element.retain(|k, _| !k.eq_ignore_ascii_case(&path.selector));
        element.insert(path.selector.clone(), path.selector_value.clone());
        match index {
            Some(i) => items[i] = Value::Object(element),
            None => items.push(Value::Object(element)),
        }
    } else if let Some(i) = index {
        items.remove(i);
    }
    if !items.is_empty() {
        body.insert(key, Value::Array(items));
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
