//! Bringing a SCIM resource in line with the wanted one: PATCH operations (RFC 7644 §3.5.2)
//! or a PUT body. Only attributes whose mapping has `fetch` and the phase's update usage
//! are compared — what is not fetched cannot be known to differ.

use super::EndpointMapper;
use super::resource::{Phase, Purpose, Resolved, usage_for};
use super::search::quote;
use super::values::same_instant;
use crate::changelog::is_password_attribute;
use crate::config::{AttributeUsage, MappingSyntax};
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
}

/// Case-insensitive member lookup (SCIM attribute names are case-insensitive).
fn member<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
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
    for r in mapper.mappings.iter().filter(|r| r.has(update)) {
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
        } else if reads(r, &|a| touched.iter().any(|t| t.eq_ignore_ascii_case(a))) {
            match member(wanted, &name) {
                Some(w) => ops.push(PatchOp::new("replace", name, Some(w.clone()))),
                None if !reads(r, &is_password_attribute) => {
                    ops.push(PatchOp::new("remove", name, None))
                }
                None => {}
            }
        }
    }
    ops
}

/// Whether the mapping (or one of its sub-mappings) reads an LDAP attribute `matches` accepts.
fn reads(r: &Resolved, matches: &dyn Fn(&str) -> bool) -> bool {
    r.mapping.syntax.ldap_attribute().is_some_and(matches)
        || r.subs.iter().any(|s| reads(s, matches))
}

fn is_empty(v: &Value) -> bool {
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
        _ => ops.push(PatchOp::new("replace", path, Some(w.clone()))),
    }
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
    let added: Vec<Value> = wanted
        .iter()
        .filter(|w| !current.iter().any(|c| item_value(c) == item_value(w)))
        .cloned()
        .collect();
    if !added.is_empty() {
        ops.push(PatchOp::new(
            "add",
            path.to_owned(),
            Some(Value::Array(added)),
        ));
    }
}

/// The full resource for PUT: the current resource with every updatable mapped attribute set
/// to its wanted value (or removed, when fetched and no longer wanted); other attributes kept.
pub fn put_body(mapper: &EndpointMapper, wanted: &Value, current: &Value, phase: Phase) -> Value {
    let update = usage_for(Purpose::Update, phase);
    let mut body: Map<String, Value> = current.as_object().cloned().unwrap_or_default();
    body.remove("meta");
    for r in mapper.mappings.iter().filter(|r| r.has(update)) {
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

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
