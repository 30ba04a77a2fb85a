//! What is kept about an operation that could not be applied: enough for an admin to see
//! what was read, what was sent, what came back and why — and to retry it.

use crate::mapping::LdapEntry;
use crate::scim::{ScimError, SentRequest};
use crate::sensitive::mask;
use chrono::{DateTime, Utc};
pub use model::rejection::{FailedStep, Phase, RejectionStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub id: String,
    pub pipe: String,
    pub phase: Phase,
    pub dn: String,
    /// The step that failed.
    pub operation: FailedStep,
    pub reason: String,
    /// The source entry (or changelog record) as read, secrets masked.
    pub source: Value,
    /// The SCIM request, when one was made.
    pub request: Option<SentRequest>,
    /// The SCIM response: status, scimType, detail and body.
    pub response: Option<Value>,
    pub created_at: DateTime<Utc>,
}

impl Rejection {
    pub fn new(
        pipe: &str,
        phase: Phase,
        entry: &LdapEntry,
        operation: FailedStep,
        reason: impl Into<String>,
    ) -> Rejection {
        let mut source = serde_json::to_value(entry).unwrap_or(Value::Null);
        mask(&mut source);
        Rejection {
            id: new_id(),
            pipe: pipe.to_owned(),
            phase,
            dn: entry.dn.clone(),
            operation,
            reason: reason.into(),
            source,
            request: None,
            response: None,
            created_at: Utc::now(),
        }
    }

    /// Adds the request sent and, from the error, the response received.
    pub fn with_exchange(
        mut self,
        request: Option<SentRequest>,
        error: Option<&ScimError>,
    ) -> Rejection {
        self.request = request.map(|mut r| {
            if let Some(body) = r.body.as_mut() {
                mask(body);
            }
            r
        });
        if let Some(f) = error.and_then(ScimError::http_failure) {
            self.response = Some(
                json!({"status": f.status, "scimType": f.scim_type, "detail": f.detail, "body": f.body}),
            );
        }
        self
    }
}

fn new_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    format!(
        "{:x}-{:016x}",
        Utc::now().timestamp_millis(),
        rng.r#gen::<u64>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_everywhere() {
        let entry = LdapEntry::new("uid=a")
            .with("userPassword", &["{SSHA}x"])
            .with("uid", &["a"]);
        let r = Rejection::new("p", Phase::Resync, &entry, FailedStep::Create, "boom")
            .with_exchange(
                Some(SentRequest {
                    method: "POST".into(),
                    url: "u".into(),
                    body: Some(json!({"userName": "a", "password": "clear"})),
                }),
                None,
            );
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("{SSHA}x") && !text.contains("clear"),
            "{text}"
        );
        assert_eq!(r.source["attributes"]["userpassword"], json!("***"));
        assert_eq!(r.source["attributes"]["uid"], json!(["a"]));
    }
}
