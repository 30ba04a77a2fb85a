//! SCIM Bulk (RFC 7644 §3.7), the pure part: what a service offers, how writes are put in one
//! request, and how its answer is split back into one result per write. Sending is
//! [`super::BulkWriter`]'s.

use super::{HttpFailure, ScimError};
use crate::mapping::PatchOp;
use serde_json::{Value, json};

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// What a service's /ServiceProviderConfig says of Bulk, when it offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    pub max_operations: usize,
    /// Bytes of one request body.
    pub max_payload_size: usize,
}

impl BulkLimits {
    /// A service that leaves maxPayloadSize out gets this (scim2-server's and most services'
    /// published value).
    pub const DEFAULT_PAYLOAD: usize = 1_048_576;

    /// `None` unless `bulk.supported` is true and more than one operation fits a request.
    pub fn offered(service_provider_config: &Value) -> Option<BulkLimits> {
        let bulk = service_provider_config.get("bulk")?;
        if bulk.get("supported").and_then(Value::as_bool) != Some(true) {
            return None;
        }
        let number = |field: &str| bulk.get(field).and_then(Value::as_u64);
        let max_operations = number("maxOperations")? as usize;
        let max_payload_size =
            number("maxPayloadSize").map_or(Self::DEFAULT_PAYLOAD, |n| n as usize);
        (max_operations > 1).then_some(BulkLimits {
            max_operations,
            max_payload_size,
        })
    }
}

/// One write to a SCIM service, sent alone or as an operation of a Bulk request.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Create {
        endpoint: String,
        body: Value,
    },
    Patch {
        endpoint: String,
        id: String,
        operations: Vec<PatchOp>,
    },
    Put {
        endpoint: String,
        id: String,
        body: Value,
    },
    Delete {
        endpoint: String,
        id: String,
    },
}

/// What a write came to: a create answers the resource (at least its id).
pub type WriteResult = Result<Option<Value>, ScimError>;

impl Write {
    pub fn method(&self) -> &'static str {
        match self {
            Write::Create { .. } => "POST",
            Write::Patch { .. } => "PATCH",
            Write::Put { .. } => "PUT",
            Write::Delete { .. } => "DELETE",
        }
    }

    /// The operation's path relative to the service's base URL (`/Users`, `/Users/{id}`).
    pub fn path(&self) -> String {
        match self {
            Write::Create { endpoint, .. } => endpoint_path(endpoint),
            Write::Patch { endpoint, id, .. }
            | Write::Put { endpoint, id, .. }
            | Write::Delete { endpoint, id } => resource_path(endpoint, id),
        }
    }

    fn data(&self) -> Option<Value> {
        match self {
            Write::Create { body, .. } | Write::Put { body, .. } => Some(body.clone()),
            Write::Patch { operations, .. } => {
                Some(json!({"schemas": [PATCH_OP], "Operations": operations}))
            }
            Write::Delete { .. } => None,
        }
    }

    /// This write as operation `index` of a Bulk request. Every operation carries a bulkId
    /// (required for POST, allowed for the others), so each answer finds its write.
    pub fn operation(&self, index: usize) -> Value {
        let mut op =
            json!({"method": self.method(), "bulkId": bulk_id(index), "path": self.path()});
        if let Some(data) = self.data() {
            op["data"] = data;
        }
        op
    }
}

fn bulk_id(index: usize) -> String {
    format!("w{index}")
}

fn endpoint_path(endpoint: &str) -> String {
    format!("/{}", endpoint.trim_matches('/'))
}

/// `/Users/{id}` with the id percent-encoded as one path segment.
fn resource_path(endpoint: &str, id: &str) -> String {
    let mut url = url::Url::parse("http://service").expect("a constant URL parses");
    {
        let mut segments = url.path_segments_mut().expect("an http URL has a path");
        segments.extend(endpoint.split('/').filter(|s| !s.is_empty()));
        segments.push(id);
    }
    url.path().to_owned()
}

/// The body of one Bulk request. `failOnErrors` is left out: the service carries on after a
/// failed operation, and each write gets its own answer.
pub fn request_body(writes: &[&Write]) -> Value {
    let operations: Vec<Value> = writes
        .iter()
        .enumerate()
        .map(|(i, w)| w.operation(i))
        .collect();
    json!({"schemas": [BULK_REQUEST], "Operations": operations})
}

/// The bytes `write` adds to a Bulk request body (its operation and a separating comma).
pub fn operation_size(write: &Write) -> usize {
    write.operation(0).to_string().len() + 1
}

/// Bytes of a Bulk request body around its operations.
pub const ENVELOPE_SIZE: usize = 128;

/// An answer's status: RFC 7644 writes it as a string ("201"); some services send a number,
/// and drafts an object with a code.
fn status_of(answer: &Value) -> Option<u16> {
    match answer.get("status")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::Object(o) => o
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok()),
        _ => None,
    }
}

/// Splits a BulkResponse into one result per write of `writes` (in order). An answer is
/// found by its bulkId, else by position among the answers without one. A write the service
/// did not answer gets an error: whether it was applied is not known, so it is not taken for
/// done.
pub fn results(
    writes: &[&Write],
    response: &Value,
    base_url: &str,
    bulk_url: &str,
) -> Vec<WriteResult> {
    let answers: &[Value] = response
        .get("Operations")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let mut by_id = std::collections::HashMap::new();
    let mut unnamed = Vec::new();
    for answer in answers {
        match answer.get("bulkId").and_then(Value::as_str) {
            Some(id) => {
                by_id.insert(id.to_owned(), answer);
            }
            None => unnamed.push(answer),
        }
    }
    let mut unnamed = unnamed.into_iter();
    writes
        .iter()
        .enumerate()
        .map(|(i, write)| {
            let answer = by_id.remove(&bulk_id(i)).or_else(|| unnamed.next());
            let url = format!("{}{}", base_url.trim_end_matches('/'), write.path());
            match answer {
                Some(answer) => result_of(write, answer, &url, bulk_url),
                None => Err(ScimError::InvalidResponse {
                    method: "POST".into(),
                    url: bulk_url.to_owned(),
                    message: format!(
                        "the Bulk response has no answer for operation {i} ({} {url}); whether it was applied is not known",
                        write.method()
                    ),
                }),
            }
        })
        .collect()
}

fn result_of(write: &Write, answer: &Value, url: &str, bulk_url: &str) -> WriteResult {
    let Some(status) = status_of(answer) else {
        return Err(ScimError::InvalidResponse {
            method: "POST".into(),
            url: bulk_url.to_owned(),
            message: format!(
                "the answer to {} {url} in the Bulk response has no status",
                write.method()
            ),
        });
    };
    let response = answer.get("response").filter(|r| !r.is_null());
    if !(200..300).contains(&status) {
        let field = |name: &str| {
            response
                .and_then(|r| r.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        return Err(ScimError::Status(Box::new(HttpFailure {
            method: write.method().to_owned(),
            url: url.to_owned(),
            status,
            scim_type: field("scimType"),
            detail: field("detail").map(|d| format!("{d} (in a Bulk request)")),
            body: response.map(|r| r.to_string().chars().take(4096).collect()),
            retry_after: None,
        })));
    }
    if !matches!(write, Write::Create { .. }) {
        return Ok(None);
    }
    // A created resource's id: from the answer's resource when given, else its location.
    let id = response
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            let location = answer.get("location").and_then(Value::as_str)?;
            let last = location.trim_end_matches('/').rsplit('/').next()?;
            let id = percent_encoding::percent_decode_str(last)
                .decode_utf8()
                .ok()?;
            (!id.is_empty()).then(|| id.into_owned())
        });
    match id {
        Some(id) => Ok(Some(match response {
            Some(r) if r.get("id").is_some() => r.clone(),
            _ => json!({"id": id}),
        })),
        None => Err(ScimError::InvalidResponse {
            method: "POST".into(),
            url: bulk_url.to_owned(),
            message: format!(
                "the answer to POST {url} in the Bulk response says neither the resource's id nor its location"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(name: &str) -> Write {
        Write::Create {
            endpoint: "Users".into(),
            body: json!({"userName": name}),
        }
    }

    #[test]
    fn limits_come_from_the_service_provider_config() {
        let spc =
            json!({"bulk": {"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576}});
        assert_eq!(
            BulkLimits::offered(&spc),
            Some(BulkLimits {
                max_operations: 1000,
                max_payload_size: 1_048_576
            })
        );
        let off = json!({"bulk": {"supported": false, "maxOperations": 1000}});
        assert_eq!(BulkLimits::offered(&off), None);
        let one = json!({"bulk": {"supported": true, "maxOperations": 1}});
        assert_eq!(BulkLimits::offered(&one), None);
        let no_payload = json!({"bulk": {"supported": true, "maxOperations": 50}});
        assert_eq!(
            BulkLimits::offered(&no_payload).unwrap().max_payload_size,
            BulkLimits::DEFAULT_PAYLOAD
        );
        assert_eq!(BulkLimits::offered(&json!({})), None);
    }

    #[test]
    fn a_request_names_each_operation() {
        let patch = Write::Patch {
            endpoint: "/Groups".into(),
            id: "a b/c".into(),
            operations: vec![],
        };
        let delete = Write::Delete {
            endpoint: "Users".into(),
            id: "7".into(),
        };
        let body = request_body(&[&create("a"), &patch, &delete]);
        assert_eq!(body["schemas"][0], BULK_REQUEST);
        let ops = body["Operations"].as_array().unwrap();
        assert_eq!(ops[0]["method"], "POST");
        assert_eq!(ops[0]["bulkId"], "w0");
        assert_eq!(ops[0]["path"], "/Users");
        assert_eq!(ops[0]["data"]["userName"], "a");
        assert_eq!(ops[1]["path"], "/Groups/a%20b%2Fc");
        assert_eq!(ops[1]["data"]["schemas"][0], PATCH_OP);
        assert_eq!(ops[2]["method"], "DELETE");
        assert!(ops[2].get("data").is_none());
        assert_eq!(operation_size(&delete), ops[2].to_string().len() + 1);
    }

    #[test]
    fn each_write_gets_its_own_answer() {
        let (a, b, c) = (
            create("a"),
            create("b"),
            Write::Delete {
                endpoint: "Users".into(),
                id: "9".into(),
            },
        );
        let writes = [&a, &b, &c];
        // Answers out of order, one failed, statuses as string and as number.
        let response = json!({"Operations": [
            {"bulkId": "w1", "method": "POST", "status": "409",
             "response": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409", "scimType": "uniqueness", "detail": "userName b is taken"}},
            {"bulkId": "w0", "method": "POST", "status": 201, "location": "http://s/v2/Users/id%20a"},
            {"method": "DELETE", "status": "204", "location": "http://s/v2/Users/9"}
        ]});
        let results = results(&writes, &response, "http://s/v2", "http://s/v2/Bulk");
        assert_eq!(results[0].as_ref().unwrap().as_ref().unwrap()["id"], "id a");
        let failure = results[1].as_ref().unwrap_err().http_failure().unwrap();
        assert_eq!(failure.status, 409);
        assert_eq!(failure.method, "POST");
        assert_eq!(failure.url, "http://s/v2/Users");
        assert_eq!(failure.scim_type.as_deref(), Some("uniqueness"));
        assert!(
            failure
                .detail
                .as_deref()
                .unwrap()
                .contains("userName b is taken")
        );
        assert!(failure.body.as_deref().unwrap().contains("uniqueness"));
        assert!(results[2].as_ref().unwrap().is_none());
    }

    #[test]
    fn an_unanswered_write_is_not_taken_for_done() {
        let (a, b) = (create("a"), create("b"));
        let response = json!({"Operations": [{"bulkId": "w0", "status": "201", "response": {"id": "1", "userName": "a"}}]});
        let results = results(&[&a, &b], &response, "http://s/v2", "http://s/v2/Bulk");
        assert_eq!(
            results[0].as_ref().unwrap().as_ref().unwrap()["userName"],
            "a"
        );
        let e = results[1].as_ref().unwrap_err().to_string();
        assert!(e.contains("no answer for operation 1"), "{e}");
        let no_status = json!({"Operations": [{"bulkId": "w0"}]});
        let e = results_one(&a, &no_status);
        assert!(e.contains("has no status"), "{e}");
    }

    fn results_one(write: &Write, response: &Value) -> String {
        results(&[write], response, "http://s/v2", "http://s/v2/Bulk")[0]
            .as_ref()
            .unwrap_err()
            .to_string()
    }
}
