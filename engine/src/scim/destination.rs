//! What the sync core asks of a SCIM service, as one trait: [`super::ScimClient`] is the real
//! destination; the sync core's unit tests put an in-memory one behind the same seam, so
//! apply, plan and find run without servers.

use super::{BulkLimits, ListPage, ScimClient, ScimError, SentRequest};
use crate::config::QueryMethod;
use crate::mapping::PatchOp;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// The answer a destination gives, later (dyn-compatible async).
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, ScimError>> + Send + 'a>>;

/// The operations a pipe sends to its destination. The `*_request` methods say how a request
/// is written down with a rejected operation; they send nothing.
pub trait Destination: Send + Sync {
    /// Resources matching `filter` (at most 2: one is a match, two are ambiguous).
    fn search<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        method: QueryMethod,
    ) -> Answer<'a, Vec<Value>>;
    fn search_request(&self, endpoint: &str, filter: &str, method: QueryMethod) -> SentRequest;
    /// The ids of every resource matching `filter`.
    fn list_ids<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        method: QueryMethod,
    ) -> Answer<'a, Vec<String>>;
    fn get_resource<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, Value>;
    /// One page of every resource of the endpoint (no filter), with only `attributes`;
    /// `start_index` counts from 1. A destination that cannot list says so with an error.
    fn list_page<'a>(
        &'a self,
        endpoint: &'a str,
        attributes: &'a [String],
        start_index: u64,
        count: u64,
    ) -> Answer<'a, ListPage> {
        let _ = (endpoint, attributes, start_index, count);
        Box::pin(async {
            Err(ScimError::Client(
                "this destination cannot list resources".into(),
            ))
        })
    }
    /// Creates a resource; answers it as the service stored it.
    fn create<'a>(&'a self, endpoint: &'a str, body: &'a Value) -> Answer<'a, Value>;
    fn create_request(&self, endpoint: &str, body: &Value) -> SentRequest;
    fn patch<'a>(&'a self, endpoint: &'a str, id: &'a str, ops: &'a [PatchOp]) -> Answer<'a, ()>;
    fn patch_request(
        &self,
        endpoint: &str,
        id: &str,
        ops: &[PatchOp],
    ) -> Result<SentRequest, ScimError>;
    fn put<'a>(&'a self, endpoint: &'a str, id: &'a str, body: &'a Value) -> Answer<'a, ()>;
    fn put_request(&self, endpoint: &str, id: &str, body: &Value)
    -> Result<SentRequest, ScimError>;
    fn delete<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, ()>;
    /// Whether the service answers at all (the cheap probe that tells one failing entry from
    /// an outage).
    fn answers(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;
    /// How writes reach the service (asked once before a resync: Bulk lets many entries be in
    /// flight at once).
    fn write_path(&self) -> Pin<Box<dyn Future<Output = WritePath> + Send + '_>> {
        Box::pin(async { WritePath::Single })
    }
}

/// How a destination sends creates, updates and deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// A request per write.
    Single,
    /// Writes of several entries share SCIM Bulk requests within these limits.
    Bulk(BulkLimits),
}

impl WritePath {
    /// Writes one request carries at most.
    pub fn writes_per_request(&self) -> usize {
        match self {
            WritePath::Single => 1,
            WritePath::Bulk(limits) => limits.max_operations,
        }
    }
}

impl std::fmt::Display for WritePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WritePath::Single => write!(f, "single requests"),
            WritePath::Bulk(l) => write!(
                f,
                "Bulk requests (up to {} operations, {} bytes)",
                l.max_operations, l.max_payload_size
            ),
        }
    }
}

impl Destination for ScimClient {
    fn search<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        method: QueryMethod,
    ) -> Answer<'a, Vec<Value>> {
        Box::pin(ScimClient::search(self, endpoint, filter, method))
    }
    fn search_request(&self, endpoint: &str, filter: &str, method: QueryMethod) -> SentRequest {
        ScimClient::search_request(self, endpoint, filter, method)
    }
    fn list_ids<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        method: QueryMethod,
    ) -> Answer<'a, Vec<String>> {
        Box::pin(ScimClient::list_ids(self, endpoint, filter, method))
    }
    fn get_resource<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, Value> {
        Box::pin(ScimClient::get_resource(self, endpoint, id))
    }
    fn list_page<'a>(
        &'a self,
        endpoint: &'a str,
        attributes: &'a [String],
        start_index: u64,
        count: u64,
    ) -> Answer<'a, ListPage> {
        Box::pin(ScimClient::list_page(
            self,
            endpoint,
            attributes,
            start_index,
            count,
        ))
    }
    fn create<'a>(&'a self, endpoint: &'a str, body: &'a Value) -> Answer<'a, Value> {
        Box::pin(ScimClient::create(self, endpoint, body))
    }
    fn create_request(&self, endpoint: &str, body: &Value) -> SentRequest {
        ScimClient::create_request(self, endpoint, body)
    }
    fn patch<'a>(&'a self, endpoint: &'a str, id: &'a str, ops: &'a [PatchOp]) -> Answer<'a, ()> {
        Box::pin(ScimClient::patch(self, endpoint, id, ops))
    }
    fn patch_request(
        &self,
        endpoint: &str,
        id: &str,
        ops: &[PatchOp],
    ) -> Result<SentRequest, ScimError> {
        ScimClient::patch_request(self, endpoint, id, ops)
    }
    fn put<'a>(&'a self, endpoint: &'a str, id: &'a str, body: &'a Value) -> Answer<'a, ()> {
        Box::pin(ScimClient::put(self, endpoint, id, body))
    }
    fn put_request(
        &self,
        endpoint: &str,
        id: &str,
        body: &Value,
    ) -> Result<SentRequest, ScimError> {
        ScimClient::put_request(self, endpoint, id, body)
    }
    fn delete<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, ()> {
        Box::pin(ScimClient::delete(self, endpoint, id))
    }
    fn answers(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(ScimClient::answers(self))
    }
}
