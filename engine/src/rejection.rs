//! What is kept about an operation that could not be applied: enough for an admin to see
//! what was read, what was sent, what came back and why — and to retry it.

use crate::mapping::LdapEntry;
use crate::scim::{ScimError, SentRequest};
use crate::sensitive::SecretValues;
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
    /// The rejected change carried a password (realtime): only a later change carrying one
    /// resolves it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carries_password: bool,
}

impl Rejection {
    pub fn new(
        pipe: &str,
        phase: Phase,
        entry: &LdapEntry,
        operation: FailedStep,
        reason: impl Into<String>,
    ) -> Rejection {
        let mut secrets = SecretValues::of(&entry.attributes);
        let mut source = serde_json::to_value(entry).unwrap_or(Value::Null);
        secrets.mask(&mut source);
        let mut reason = reason.into();
        secrets.mask_text(&mut reason);
        Rejection {
            id: new_id(),
            pipe: pipe.to_owned(),
            phase,
            dn: entry.dn.clone(),
            operation,
            reason,
            source,
            request: None,
            response: None,
            created_at: Utc::now(),
            carries_password: false,
        }
    }

    /// Adds the request sent and, from the error, the response received, with the secrets of
    /// `entry` (the one the request was for) and those the request sets masked in both and in
    /// the reason.
    pub fn with_exchange(
        mut self,
        request: Option<SentRequest>,
        error: Option<&ScimError>,
        entry: &LdapEntry,
    ) -> Rejection {
        let mut secrets = SecretValues::of(&entry.attributes);
        self.request = request.map(|mut r| {
            if let Some(body) = r.body.as_mut() {
                secrets.mask(body);
            }
            secrets.mask_text(&mut r.url);
            r
        });
        if let Some(f) = error.and_then(ScimError::http_failure) {
            let mut response = json!({"status": f.status, "scimType": f.scim_type, "detail": f.detail, "body": f.body});
            secrets.mask(&mut response);
            self.response = Some(response);
        }
        secrets.mask_text(&mut self.reason);
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
    fn a_password_a_service_refused_is_masked_in_request_response_and_reason() {
        // The clear text a change carried stands in the entry read for the change.
        let entry = LdapEntry::new("uid=a")
            .with("userPassword", &["weak1"])
            .with("uid", &["a"]);
        let refused = ScimError::Status(Box::new(crate::scim::HttpFailure {
            method: "PATCH".into(),
            url: "http://scim.example.com/v2/Users/1".into(),
            status: 400,
            scim_type: Some("invalidValue".into()),
            detail: Some("password weak1 is too short".into()),
            body: Some(r#"{"detail": "password weak1 is too short"}"#.into()),
            retry_after: None,
        }));
        let r = Rejection::new("p", Phase::Realtime, &entry, FailedStep::Modify, refused.to_string())
            .with_exchange(
                Some(SentRequest {
                    method: "PATCH".into(),
                    url: "u".into(),
                    body: Some(json!({"Operations": [{"op": "replace", "path": "password", "value": "weak1"}]})),
                }),
                Some(&refused),
                &entry,
            );
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("weak1"), "{text}");
        assert!(
            r.reason.contains("password *** is too short"),
            "{}",
            r.reason
        );
    }

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
                &entry,
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
