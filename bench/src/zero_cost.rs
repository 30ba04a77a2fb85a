//! A destination that costs nothing: searches match nothing, creates answer with an id (all
//! the engine reads of the answer), everything else succeeds. With it, a resync measures the engine (reading,
//! classifying, mapping, the store) and never a SCIM service. Its users may also be listed as
//! if they were already there, so that a resync finds them all in sync and holds an index of
//! them all: the id of a user is its userName, whether created or listed.

use crate::common::RawUser;
use engine::config::QueryMethod;
use engine::mapping::PatchOp;
use engine::scim::{Answer, Destination, ListPage, ScimError, SentRequest};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct ZeroCost {
    ids: AtomicU64,
    listed: Option<(u64, RawUser)>,
}

impl ZeroCost {
    /// Lists `count` users, the `n`th made by `user(n)`; other endpoints list nothing.
    pub fn listing(count: u64, user: RawUser) -> ZeroCost {
        ZeroCost {
            ids: AtomicU64::default(),
            listed: Some((count, user)),
        }
    }

    /// Whether it lists users.
    pub fn lists(&self) -> bool {
        self.listed.is_some()
    }

    /// Generates every listed user once, as a listing does, and drops them: what the
    /// destination's own work in a listed pass costs.
    pub fn generate_listing(&self) {
        if let Some((total, user)) = &self.listed {
            for n in 0..*total {
                std::hint::black_box(listed_user(user, n));
            }
        }
    }
}

/// The `n`th listed user, with its id.
fn listed_user(user: &RawUser, n: u64) -> Value {
    let mut resource = user(n as u32);
    resource["id"] = id_of(&resource).unwrap_or_default().into();
    resource
}

/// The id of a user: its userName.
fn id_of(resource: &Value) -> Option<String> {
    resource["userName"].as_str().map(str::to_owned)
}

fn request(method: &str, url: String, body: Option<Value>) -> SentRequest {
    SentRequest {
        method: method.into(),
        url,
        body,
    }
}

impl Destination for ZeroCost {
    fn search<'a>(&'a self, _: &'a str, _: &'a str, _: QueryMethod) -> Answer<'a, Vec<Value>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }
    fn list_page<'a>(
        &'a self,
        endpoint: &'a str,
        _: &'a [String],
        start: u64,
        count: u64,
    ) -> Answer<'a, ListPage> {
        let page = match &self.listed {
            Some((total, user)) if endpoint == "Users" => {
                let first = start.saturating_sub(1).min(*total);
                let resources = (first..(first + count).min(*total))
                    .map(|n| listed_user(user, n))
                    .collect();
                ListPage {
                    resources,
                    total: Some(*total),
                }
            }
            _ => ListPage {
                resources: Vec::new(),
                total: Some(0),
            },
        };
        Box::pin(std::future::ready(Ok(page)))
    }
    fn search_request(&self, endpoint: &str, filter: &str, _: QueryMethod) -> SentRequest {
        request("GET", format!("zero:/{endpoint}?filter={filter}"), None)
    }
    fn list_ids<'a>(&'a self, _: &'a str, _: &'a str, _: QueryMethod) -> Answer<'a, Vec<String>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }
    fn get_resource<'a>(&'a self, _: &'a str, _: &'a str) -> Answer<'a, Value> {
        Box::pin(std::future::ready(Ok(Value::Null)))
    }
    fn create<'a>(&'a self, _: &'a str, body: &'a Value) -> Answer<'a, Value> {
        let id =
            id_of(body).unwrap_or_else(|| self.ids.fetch_add(1, Ordering::Relaxed).to_string());
        Box::pin(std::future::ready(Ok(serde_json::json!({ "id": id }))))
    }
    fn create_request(&self, endpoint: &str, body: &Value) -> SentRequest {
        request("POST", format!("zero:/{endpoint}"), Some(body.clone()))
    }
    fn patch<'a>(&'a self, _: &'a str, _: &'a str, _: &'a [PatchOp]) -> Answer<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
    fn patch_request(
        &self,
        endpoint: &str,
        id: &str,
        _: &[PatchOp],
    ) -> Result<SentRequest, ScimError> {
        Ok(request("PATCH", format!("zero:/{endpoint}/{id}"), None))
    }
    fn put<'a>(&'a self, _: &'a str, _: &'a str, _: &'a Value) -> Answer<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
    fn put_request(&self, endpoint: &str, id: &str, _: &Value) -> Result<SentRequest, ScimError> {
        Ok(request("PUT", format!("zero:/{endpoint}/{id}"), None))
    }
    fn delete<'a>(&'a self, _: &'a str, _: &'a str) -> Answer<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
    fn answers(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(std::future::ready(true))
    }
}
