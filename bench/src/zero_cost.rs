//! A destination that costs nothing: searches match nothing, creates answer with an id (all
//! the engine reads of the answer), everything else succeeds. With it, a resync measures the engine (reading,
//! classifying, mapping, the store) and never a SCIM service.

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
        _: &'a str,
        _: &'a [String],
        _: u64,
        _: u64,
    ) -> Answer<'a, ListPage> {
        Box::pin(std::future::ready(Ok(ListPage {
            resources: Vec::new(),
            total: Some(0),
        })))
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
    fn create<'a>(&'a self, _: &'a str, _: &'a Value) -> Answer<'a, Value> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed).to_string();
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
