//! What is kept about an operation that could not be applied: enough for an admin to see
//! what was read, what was sent, what came back and why — and to retry it.

use crate::mapping::LdapEntry;
use crate::scim::{ScimError, SentRequest};
use crate::sensitive::mask;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub id: String,
    pub pipe: String,
    /// `resync` or `realtime`.
    pub phase: String,
    pub dn: String,
    /// What failed: `read`, `map`, `decrypt-password`, `search`, `create`, `modify` or `delete`.
    pub operation: String,
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
        phase: &str,
        entry: &LdapEntry,
        operation: &str,
        reason: impl Into<String>,
    ) -> Rejection {
        let mut source = serde_json::to_value(entry).unwrap_or(Value::Null);
        mask(&mut source);
        Rejection {
            id: new_id(),
            pipe: pipe.to_owned(),
            phase: phase.to_owned(),
            dn: entry.dn.clone(),
            operation: operation.to_owned(),
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
        let r = Rejection::new("p", "resync", &entry, "create", "boom").with_exchange(
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
