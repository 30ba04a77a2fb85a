//! A destination that gathers the writes of concurrent entries into SCIM Bulk requests.
//!
//! Each write (create, PATCH, PUT, delete) waits in one queue; whoever gets one of the
//! `requests` slots takes what is queued — up to the service's maxOperations and
//! maxPayloadSize — and sends it as one Bulk request (a lone write goes as a plain request).
//! So writes batch by themselves while requests are in flight, and a quiet pipe's single
//! change is not held back. Each write gets its own answer: one failed operation is that
//! entry's failure, and the rest succeed.
//!
//! A 413 halves the operations per request (said once in the log) and sends the halves; a
//! transient failure of one operation sends that write again alone, with the client's
//! retries; a Bulk request that fails as a whole sends its writes alone. A service whose
//! ServiceProviderConfig does not offer Bulk, or that has no Bulk endpoint after all, gets
//! plain requests only.

use super::bulk::{
    BulkLimits, ENVELOPE_SIZE, Write, WriteResult, operation_size, request_body, results,
};
use super::destination::{Answer, Destination, WritePath};
use super::{ListPage, ScimClient, ScimError, SentRequest};
use crate::config::QueryMethod;
use crate::mapping::PatchOp;
use serde_json::Value;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::{OnceCell, Semaphore, oneshot};

pub struct BulkWriter {
    client: ScimClient,
    /// What the service offers, read from its ServiceProviderConfig before the first write.
    offered: OnceCell<Option<BulkLimits>>,
    /// Operations per request now: the service's maximum, halved after each 413.
    operations_cap: AtomicUsize,
    /// The service has no Bulk endpoint after all (404, 405, 501): plain requests only.
    refused: AtomicBool,
    said_too_large: AtomicBool,
    queue: Mutex<VecDeque<Queued>>,
    /// Requests in flight to the service, searches included: the pipe's worker count.
    requests: Semaphore,
}

struct Queued {
    write: Write,
    size: usize,
    reply: oneshot::Sender<WriteResult>,
}

impl BulkWriter {
    pub fn new(client: ScimClient, requests_at_once: usize) -> BulkWriter {
        BulkWriter {
            client,
            offered: OnceCell::new(),
            operations_cap: AtomicUsize::new(usize::MAX),
            refused: AtomicBool::new(false),
            said_too_large: AtomicBool::new(false),
            queue: Mutex::new(VecDeque::new()),
            requests: Semaphore::new(requests_at_once.max(1)),
        }
    }

    /// The service's Bulk limits, asked once; a failure to ask that may pass (the service
    /// is down) is asked again by the next write.
    async fn limits(&self) -> Option<BulkLimits> {
        if self.refused.load(Ordering::Relaxed) {
            return None;
        }
        let offered = self
            .offered
            .get_or_try_init(|| async {
                match self.client.get_json("ServiceProviderConfig").await {
                    Ok(spc) => {
                        let offered = BulkLimits::offered(&spc);
                        match offered {
                            Some(l) => tracing::info!(
                                "{} offers SCIM Bulk: writes go in Bulk requests of up to {} operations and {} bytes",
                                self.client.base_url(),
                                l.max_operations,
                                l.max_payload_size
                            ),
                            None => tracing::info!(
                                "{} does not offer SCIM Bulk: writes go in single requests",
                                self.client.base_url()
                            ),
                        }
                        Ok(offered)
                    }
                    Err(e) if e.is_transient() => Err(e),
                    Err(e) => {
                        tracing::warn!(
                            "cannot read the ServiceProviderConfig ({e}): writes go in single requests"
                        );
                        Ok(None)
                    }
                }
            })
            .await;
        offered.ok().copied().flatten()
    }

    async fn write(&self, write: Write) -> WriteResult {
        let limits = match self.limits().await {
            Some(l) if operation_size(&write) + ENVELOPE_SIZE <= l.max_payload_size => l,
            _ => {
                let _slot = self.slot().await;
                return self.client.write_alone(&write).await;
            }
        };
        let (reply, mut answer) = oneshot::channel();
        let size = operation_size(&write);
        self.queue
            .lock()
            .expect("bulk queue")
            .push_back(Queued { write, size, reply });
        loop {
            tokio::select! {
                biased;
                answered = &mut answer => return answered.unwrap_or_else(|_| Err(cancelled())),
                slot = self.slot() => {
                    let batch = self.take(limits);
                    if batch.is_empty() {
                        // Another sender took this write: its answer comes from there.
                        drop(slot);
                        return answer.await.unwrap_or_else(|_| Err(cancelled()));
                    }
                    self.send(batch).await;
                    drop(slot);
                }
            }
        }
    }

    async fn slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.requests
            .acquire()
            .await
            .expect("the request slots are never closed")
    }

    /// The queued writes that fit one request, oldest first.
    fn take(&self, limits: BulkLimits) -> Vec<Queued> {
        let cap = self
            .operations_cap
            .load(Ordering::Relaxed)
            .min(limits.max_operations);
        let room = limits.max_payload_size - ENVELOPE_SIZE;
        let mut queue = self.queue.lock().expect("bulk queue");
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(next) = queue.front() {
            if batch.len() >= cap || (!batch.is_empty() && bytes + next.size > room) {
                break;
            }
            bytes += next.size;
            batch.push(queue.pop_front().expect("a front"));
        }
        batch
    }

    /// Sends `batch` and answers each of its writes.
    fn send(&self, batch: Vec<Queued>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if batch.len() == 1 {
                return self.send_alone(batch).await;
            }
            let writes: Vec<&Write> = batch.iter().map(|q| &q.write).collect();
            match self.client.bulk(&writes).await {
                Ok(answers) => {
                    for (queued, answer) in batch.into_iter().zip(answers) {
                        let answer = match answer {
                            // The service could not take this one just now: again, alone.
                            Err(e) if e.is_transient() => {
                                self.client.write_alone(&queued.write).await
                            }
                            answer => answer,
                        };
                        let _ = queued.reply.send(answer);
                    }
                }
                Err(e) if e.http_failure().is_some_and(|f| f.status == 413) => {
                    let half = batch.len() / 2;
                    self.operations_cap.fetch_min(half, Ordering::Relaxed);
                    if !self.said_too_large.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "the destination refused a Bulk request of {} operations as too large (HTTP 413): sending at most {half} operations per request",
                            batch.len()
                        );
                    }
                    let mut first = batch;
                    let second = first.split_off(half);
                    self.send(first).await;
                    self.send(second).await;
                }
                Err(e) => {
                    if e.http_failure()
                        .is_some_and(|f| matches!(f.status, 404 | 405 | 501))
                        && !self.refused.swap(true, Ordering::Relaxed)
                    {
                        tracing::warn!(
                            "the destination has no Bulk endpoint after all ({e}): writes go in single requests"
                        );
                    } else {
                        // The status only: a refusal's detail may quote what was sent (a
                        // password); each write's own answer is kept with it, masked.
                        let why = match e.http_failure() {
                            Some(f) => format!("HTTP {}", f.status),
                            None => e.to_string(),
                        };
                        tracing::debug!("a Bulk request failed ({why}): its writes go alone");
                    }
                    self.send_alone(batch).await;
                }
            }
        })
    }

    async fn send_alone(&self, batch: Vec<Queued>) {
        for queued in batch {
            let answer = self.client.write_alone(&queued.write).await;
            let _ = queued.reply.send(answer);
        }
    }

    /// A request other than a write, holding a slot.
    async fn request<T>(&self, request: impl Future<Output = T>) -> T {
        let _slot = self.slot().await;
        request.await
    }
}

fn cancelled() -> ScimError {
    ScimError::Client("the request carrying this write was cancelled".into())
}

impl ScimClient {
    /// Sends `write` in a request of its own.
    pub(crate) async fn write_alone(&self, write: &Write) -> WriteResult {
        match write {
            Write::Create { endpoint, body } => self.create(endpoint, body).await.map(Some),
            Write::Patch {
                endpoint,
                id,
                operations,
            } => self.patch(endpoint, id, operations).await.map(|()| None),
            Write::Put { endpoint, id, body } => self.put(endpoint, id, body).await.map(|()| None),
            Write::Delete { endpoint, id } => self.delete(endpoint, id).await.map(|()| None),
        }
    }

    /// Sends `writes` in one Bulk request; one result per write. Each operation counts
    /// against the rate limit.
    pub(crate) async fn bulk(&self, writes: &[&Write]) -> Result<Vec<WriteResult>, ScimError> {
        let url = self.url("Bulk");
        self.pace(writes.len().saturating_sub(1)).await;
        let body = request_body(writes);
        let response = self.send(reqwest::Method::POST, &url, Some(&body)).await?;
        let answer = super::client::read_json("POST", &url, response).await?;
        Ok(results(writes, &answer, self.base_url(), &url))
    }
}

impl Destination for BulkWriter {
    fn search<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        method: QueryMethod,
    ) -> Answer<'a, Vec<Value>> {
        Box::pin(self.request(self.client.search(endpoint, filter, method)))
    }
    fn search_request(&self, endpoint: &str, filter: &str, method: QueryMethod) -> SentRequest {
        self.client.search_request(endpoint, filter, method)
    }
    fn list_ids<'a>(
        &'a self,
        endpoint: &'a str,
        filter: &'a str,
        method: QueryMethod,
    ) -> Answer<'a, Vec<String>> {
        Box::pin(self.request(self.client.list_ids(endpoint, filter, method)))
    }
    fn get_resource<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, Value> {
        Box::pin(self.request(self.client.get_resource(endpoint, id)))
    }
    fn list_page<'a>(
        &'a self,
        endpoint: &'a str,
        attributes: &'a [String],
        start_index: u64,
        count: u64,
    ) -> Answer<'a, ListPage> {
        Box::pin(
            self.request(
                self.client
                    .list_page(endpoint, attributes, start_index, count),
            ),
        )
    }
    fn create<'a>(&'a self, endpoint: &'a str, body: &'a Value) -> Answer<'a, Value> {
        Box::pin(async move {
            let write = Write::Create {
                endpoint: endpoint.to_owned(),
                body: body.clone(),
            };
            self.write(write).await.map(Option::unwrap_or_default)
        })
    }
    fn create_request(&self, endpoint: &str, body: &Value) -> SentRequest {
        self.client.create_request(endpoint, body)
    }
    fn patch<'a>(&'a self, endpoint: &'a str, id: &'a str, ops: &'a [PatchOp]) -> Answer<'a, ()> {
        Box::pin(async move {
            let write = Write::Patch {
                endpoint: endpoint.to_owned(),
                id: id.to_owned(),
                operations: ops.to_vec(),
            };
            self.write(write).await.map(drop)
        })
    }
    fn patch_request(
        &self,
        endpoint: &str,
        id: &str,
        ops: &[PatchOp],
    ) -> Result<SentRequest, ScimError> {
        self.client.patch_request(endpoint, id, ops)
    }
    fn put<'a>(&'a self, endpoint: &'a str, id: &'a str, body: &'a Value) -> Answer<'a, ()> {
        Box::pin(async move {
            let write = Write::Put {
                endpoint: endpoint.to_owned(),
                id: id.to_owned(),
                body: body.clone(),
            };
            self.write(write).await.map(drop)
        })
    }
    fn put_request(
        &self,
        endpoint: &str,
        id: &str,
        body: &Value,
    ) -> Result<SentRequest, ScimError> {
        self.client.put_request(endpoint, id, body)
    }
    fn delete<'a>(&'a self, endpoint: &'a str, id: &'a str) -> Answer<'a, ()> {
        Box::pin(async move {
            let write = Write::Delete {
                endpoint: endpoint.to_owned(),
                id: id.to_owned(),
            };
            self.write(write).await.map(drop)
        })
    }
    fn answers(&self) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(self.client.answers())
    }
    fn write_path(&self) -> Pin<Box<dyn Future<Output = WritePath> + Send + '_>> {
        Box::pin(async move {
            match self.limits().await {
                Some(limits) => WritePath::Bulk(limits),
                None => WritePath::Single,
            }
        })
    }
}
