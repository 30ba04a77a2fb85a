//! "Test connection" for a SCIM server: read /ServiceProviderConfig (what the service
//! supports) and /ResourceTypes (which needs authorisation, so it also proves the credentials).

use super::{BulkLimits, ScimClient, ScimError};
use crate::config::ScimServer;
use crate::crypto::Cipher;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceTypeInfo {
    pub name: String,
    pub endpoint: String,
    pub schema: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimProbeReport {
    pub base_url: String,
    pub patch: bool,
    pub bulk: bool,
    pub bulk_max_operations: Option<u64>,
    /// Bytes of one Bulk request body.
    pub bulk_max_payload_size: Option<u64>,
    /// Whether destinations on this server will send writes in Bulk requests (unless their
    /// use-bulk is off): Bulk is supported with more than one operation per request.
    pub bulk_usable: bool,
    pub filter: bool,
    pub filter_max_results: Option<u64>,
    pub sort: bool,
    pub etag: bool,
    pub change_password: bool,
    pub authentication_schemes: Vec<String>,
    /// From /ResourceTypes; empty when that request failed (see `problems`).
    pub resource_types: Vec<ResourceTypeInfo>,
    pub problems: Vec<String>,
}

pub async fn probe(server: &ScimServer, cipher: &Cipher) -> Result<ScimProbeReport, ScimError> {
    let client = ScimClient::new(server, cipher)?;
    let spc = client.get_json("ServiceProviderConfig").await?;
    let supported = |feature: &str| {
        spc.get(feature)
            .and_then(|f| f.get("supported"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let number = |feature: &str, field: &str| {
        spc.get(feature)
            .and_then(|f| f.get(field))
            .and_then(Value::as_u64)
    };
    let mut problems = Vec::new();
    if !supported("patch") {
        problems.push(
            "the service does not support PATCH: use update-method put in the sync destination"
                .into(),
        );
    }
    if !supported("filter") {
        problems.push(
            "the service does not support filters: search mappings cannot find existing resources"
                .into(),
        );
    }
    let authentication_schemes = spc
        .get("authenticationSchemes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.get("type").or(s.get("name")).and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let resource_types = match client.get_json("ResourceTypes").await {
        Ok(body) => parse_resource_types(&body),
        Err(ScimError::Status(failure)) if matches!(failure.status, 401 | 403) => {
            let status = failure.status;
            problems.push(format!(
                "GET /ResourceTypes was refused with HTTP {status}: the credentials are missing or wrong"
            ));
            Vec::new()
        }
        Err(e) => {
            problems.push(e.to_string());
            Vec::new()
        }
    };
    Ok(ScimProbeReport {
        base_url: server.base_url.clone(),
        patch: supported("patch"),
        bulk: supported("bulk"),
        bulk_max_operations: number("bulk", "maxOperations"),
        bulk_max_payload_size: number("bulk", "maxPayloadSize"),
        bulk_usable: BulkLimits::offered(&spc).is_some(),
        filter: supported("filter"),
        filter_max_results: number("filter", "maxResults"),
        sort: supported("sort"),
        etag: supported("etag"),
        change_password: supported("changePassword"),
        authentication_schemes,
        resource_types,
        problems,
    })
}

/// Accepts both a ListResponse and a bare array (servers differ).
fn parse_resource_types(body: &Value) -> Vec<ResourceTypeInfo> {
    let items = body
        .get("Resources")
        .and_then(Value::as_array)
        .or(body.as_array());
    items
        .into_iter()
        .flatten()
        .map(|r| {
            let text = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            ResourceTypeInfo {
                name: text("name"),
                endpoint: text("endpoint"),
                schema: text("schema"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_types_from_list_or_array() {
        let list =
            json!({"Resources": [{"name": "User", "endpoint": "/Users", "schema": "urn:u"}]});
        let bare = json!([{"name": "Group", "endpoint": "/Groups", "schema": "urn:g"}]);
        assert_eq!(parse_resource_types(&list)[0].endpoint, "/Users");
        assert_eq!(parse_resource_types(&bare)[0].name, "Group");
        assert!(parse_resource_types(&json!({})).is_empty());
    }
}
