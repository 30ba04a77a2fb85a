//! An in-memory SCIM service behind [`Destination`], for unit tests of the sync core: it keeps
//! resources per endpoint, answers `attr eq "value"` filters (joined by `and`), logs every
//! request it is sent and can be told to fail a method with a status. Endpoints are
//! as the configuration names them (`Users`), under a made-up base URL.

use crate::config::QueryMethod;
use crate::mapping::PatchOp;
use crate::scim::{Answer, Destination, HttpFailure, ScimError, SentRequest};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// Clones share one service: a test keeps one to look at what the plan's copy was sent.
#[derive(Default, Clone)]
pub(crate) struct MemoryDestination {
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    resources: Mutex<BTreeMap<String, Vec<Value>>>,
    /// "METHOD endpoint[/id]" for every request, in order.
    sent: Mutex<Vec<String>>,
    /// Requests with this method answer this status.
    failing: Mutex<Option<(&'static str, u16)>>,
}

const BASE: &str = "memory:/v2";

impl MemoryDestination {
    /// Holds `resource` (with its id) at `endpoint`.
    pub(crate) fn holding(self, endpoint: &str, resource: Value) -> Self {
        self.state
            .resources
            .lock()
            .unwrap()
            .entry(endpoint.to_owned())
            .or_default()
            .push(resource);
        self
    }

    pub(crate) fn fail(&self, method: &'static str, status: u16) {
        *self.state.failing.lock().unwrap() = Some((method, status));
    }

    pub(crate) fn sent(&self) -> Vec<String> {
        self.state.sent.lock().unwrap().clone()
    }

    pub(crate) fn resources(&self, endpoint: &str) -> Vec<Value> {
        self.state
            .resources
            .lock()
            .unwrap()
            .get(endpoint)
            .cloned()
            .unwrap_or_default()
    }

    /// Logs the request; the failure it was told to give, if any.
    fn receive(&self, method: &'static str, target: String) -> Result<(), ScimError> {
        self.state
            .sent
            .lock()
            .unwrap()
            .push(format!("{method} {target}"));
        match *self.state.failing.lock().unwrap() {
            Some((m, status)) if m == method => Err(ScimError::Status(Box::new(HttpFailure {
                method: method.into(),
                url: format!("{BASE}/{target}"),
                status,
                scim_type: None,
                detail: Some("told to fail".into()),
                body: None,
                retry_after: None,
            }))),
            _ => Ok(()),
        }
    }

    fn matching(&self, endpoint: &str, filter: &str) -> Vec<Value> {
        let terms: Vec<(String, Value)> = filter
            .split(" and ")
            .map(|term| {
                let (attr, literal) = term.split_once(" eq ").expect("attr eq value");
                (
                    attr.to_owned(),
                    serde_json::from_str(literal).expect("a literal"),
                )
            })
            .collect();
        self.resources(endpoint)
            .into_iter()
            .filter(|r| {
                terms
                    .iter()
                    .all(|(attr, want)| attr.split('.').try_fold(r, |v, k| v.get(k)) == Some(want))
            })
            .collect()
    }

    fn update(&self, endpoint: &str, id: &str, change: impl FnOnce(&mut Value)) {
        let mut all = self.state.resources.lock().unwrap();
        if let Some(r) = all
            .get_mut(endpoint)
            .and_then(|rs| rs.iter_mut().find(|r| r["id"] == id))
        {
            change(r);
        }
    }
}

fn ready<'a, T: Send + 'a>(answer: Result<T, ScimError>) -> Answer<'a, T> {
    Box::pin(std::future::ready(answer))
}

impl Destination for MemoryDestination {
    fn search<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        _: QueryMethod,
    ) -> Answer<'a, Vec<Value>> {
        ready(
            self.receive("GET", format!("{endpoint}?filter={filter}"))
                .map(|()| self.matching(endpoint, filter)),
        )
    }
    fn search_request(&self, endpoint: &str, filter: &str, _: QueryMethod) -> SentRequest {
        SentRequest {
            method: "GET".into(),
            url: format!("{BASE}/{endpoint}?filter={filter}"),
            body: None,
        }
    }
    fn list_ids<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        _: QueryMethod,
    ) -> Answer<'a, Vec<String>> {
        ready(
            self.receive("GET", format!("{endpoint}?filter={filter}"))
                .map(|()| {
                    let found = self.matching(endpoint, filter);
                    found
                        .iter()
                        .filter_map(|r| r["id"].as_str().map(str::to_owned))
                        .collect()
                }),
        )
    }
    fn get_resource<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, Value> {
        ready(
            self.receive("GET", format!("{endpoint}/{id}"))
                .and_then(|()| {
                    self.resources(endpoint)
                        .into_iter()
                        .find(|r| r["id"] == id)
                        .ok_or_else(|| ScimError::Client(format!("{endpoint}/{id} is not held")))
                }),
        )
    }
    fn create<'a>(&'a self, endpoint: &'a str, body: &'a Value) -> Answer<'a, Value> {
        ready(self.receive("POST", endpoint.to_owned()).map(|()| {
            let mut stored = body.clone();
            let mut all = self.state.resources.lock().unwrap();
            let list = all.entry(endpoint.to_owned()).or_default();
            stored["id"] = json!(format!("id-{}", list.len() + 1));
            list.push(stored.clone());
            stored
        }))
    }
    fn create_request(&self, endpoint: &str, body: &Value) -> SentRequest {
        SentRequest {
            method: "POST".into(),
            url: format!("{BASE}/{endpoint}"),
            body: Some(body.clone()),
        }
    }
    fn patch<'a>(&'a self, endpoint: &'a str, id: &'a str, ops: &'a [PatchOp]) -> Answer<'a, ()> {
        ready(self.receive("PATCH", format!("{endpoint}/{id}")).map(|()| {
            // Only what the tests need: replace of an attribute or sub-attribute
            // (`name.familyName`), no filters.
            self.update(endpoint, id, |r| {
                for op in ops.iter().filter(|o| o.op == "replace") {
                    if let (Some(path), Some(value)) = (&op.path, &op.value) {
                        let mut at = &mut *r;
                        for step in path.split('.') {
                            at = &mut at[step];
                        }
                        *at = value.clone();
                    }
                }
            })
        }))
    }
    fn patch_request(
        &self,
        endpoint: &str,
        id: &str,
        ops: &[PatchOp],
    ) -> Result<SentRequest, ScimError> {
        Ok(SentRequest {
            method: "PATCH".into(),
            url: format!("{BASE}/{endpoint}/{id}"),
            body: Some(json!({ "Operations": ops })),
        })
    }
    fn put<'a>(&'a self, endpoint: &'a str, id: &'a str, body: &'a Value) -> Answer<'a, ()> {
        ready(self.receive("PUT", format!("{endpoint}/{id}")).map(|()| {
            self.update(endpoint, id, |r| {
                *r = body.clone();
                r["id"] = json!(id);
            })
        }))
    }
    fn put_request(
        &self,
        endpoint: &str,
        id: &str,
        body: &Value,
    ) -> Result<SentRequest, ScimError> {
        Ok(SentRequest {
            method: "PUT".into(),
            url: format!("{BASE}/{endpoint}/{id}"),
            body: Some(body.clone()),
        })
    }
    fn delete<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, ()> {
        ready(
            self.receive("DELETE", format!("{endpoint}/{id}"))
                .map(|()| {
                    if let Some(rs) = self.state.resources.lock().unwrap().get_mut(endpoint) {
                        rs.retain(|r| r["id"] != id);
                    }
                }),
        )
    }
    fn answers(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(std::future::ready(true))
    }
}
