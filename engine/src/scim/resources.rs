//! SCIM resource operations on an endpoint: search, create, modify (PATCH or PUT), delete.

use super::client::read_json;
use super::{ScimClient, ScimError};
use crate::config::QueryMethod;
use crate::mapping::PatchOp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A request as sent, kept with rejected operations so an admin can see exactly what failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// One page of a listing: its resources and the total the service says it holds.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub resources: Vec<Value>,
    pub total: Option<u64>,
}

/// The resources of a ListResponse (RFC 7644 §3.4.2). `Resources` may be left out only when
/// `totalResults` is 0: an answer that says nothing of what matched is invalid, never "no
/// match" — taking it for one would create a duplicate.
fn resources(list: &Value, method: &str, url: &str) -> Result<Vec<Value>, ScimError> {
    let invalid = |message: String| ScimError::InvalidResponse {
        method: method.to_owned(),
        url: url.to_owned(),
        message,
    };
    match (
        list.get("Resources"),
        list.get("totalResults").and_then(Value::as_u64),
    ) {
        (Some(Value::Array(items)), _) => Ok(items.clone()),
        (None | Some(Value::Null), Some(0)) => Ok(Vec::new()),
        (None | Some(Value::Null), Some(n)) => Err(invalid(format!(
            "totalResults is {n} but the answer has no \"Resources\""
        ))),
        (None | Some(Value::Null), None) => Err(invalid(
            "the answer has no \"Resources\" and no totalResults".into(),
        )),
        (Some(_), _) => Err(invalid("\"Resources\" is not a list".into())),
    }
}

impl ScimClient {
    fn resource_url(&self, endpoint: &str, id: &str) -> Result<String, ScimError> {
        let mut url =
            url::Url::parse(&self.url(endpoint)).map_err(|e| ScimError::Client(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|_| ScimError::Client("the base URL cannot have paths".into()))?
            .push(id);
        Ok(url.to_string())
    }

    /// The request a search would send (for records).
    pub fn search_request(&self, endpoint: &str, filter: &str, method: QueryMethod) -> SentRequest {
        match method {
            QueryMethod::Get => {
                let mut url =
                    url::Url::parse(&self.url(endpoint)).expect("a validated base URL parses");
                url.query_pairs_mut()
                    .append_pair("filter", filter)
                    .append_pair("count", "2");
                SentRequest {
                    method: "GET".into(),
                    url: url.to_string(),
                    body: None,
                }
            }
            QueryMethod::Post => SentRequest {
                method: "POST".into(),
                url: self.url(&format!("{}/.search", endpoint.trim_end_matches('/'))),
                body: Some(json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": filter,
                    "count": 2
                })),
            },
        }
    }

    /// Resources matching `filter` (at most 2 are asked for: one is a match, two are ambiguous).
    pub async fn search(
        &self,
        endpoint: &str,
        filter: &str,
        method: QueryMethod,
    ) -> Result<Vec<Value>, ScimError> {
        let req = self.search_request(endpoint, filter, method);
        let http_method = if req.method == "GET" {
            Method::GET
        } else {
            Method::POST
        };
        let response = self.send(http_method, &req.url, req.body.as_ref()).await?;
        let list = read_json(&req.method, &req.url, response).await?;
        resources(&list, &req.method, &req.url)
    }

    /// The ids of every resource matching `filter`, page by page (`attributes=id`, so each
    /// page is small). A service that repeats a page instead of moving on ends the listing.
    pub async fn list_ids(
        &self,
        endpoint: &str,
        filter: &str,
        method: QueryMethod,
    ) -> Result<Vec<String>, ScimError> {
        const PAGE: usize = 100;
        let mut ids: Vec<String> = Vec::new();
        let mut start = 1;
        loop {
            let (http_method, url, body) = match method {
                QueryMethod::Get => {
                    let mut url = url::Url::parse(&self.url(endpoint))
                        .map_err(|e| ScimError::Client(e.to_string()))?;
                    url.query_pairs_mut()
                        .append_pair("filter", filter)
                        .append_pair("attributes", "id")
                        .append_pair("startIndex", &start.to_string())
                        .append_pair("count", &PAGE.to_string());
                    (Method::GET, url.to_string(), None)
                }
                QueryMethod::Post => (
                    Method::POST,
                    self.url(&format!("{}/.search", endpoint.trim_end_matches('/'))),
                    Some(json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": filter, "attributes": ["id"], "startIndex": start, "count": PAGE
                    })),
                ),
            };
            let name = http_method.to_string();
            let response = self.send(http_method, &url, body.as_ref()).await?;
            let list = read_json(&name, &url, response).await?;
            let page: Vec<String> = resources(&list, &name, &url)?
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            let fresh: Vec<String> = page.into_iter().filter(|id| !ids.contains(id)).collect();
            let done = fresh.len() < PAGE;
            start += fresh.len();
            ids.extend(fresh);
            let total = list.get("totalResults").and_then(Value::as_u64);
            if done || total.is_some_and(|t| ids.len() as u64 >= t) {
                return Ok(ids);
            }
        }
    }

    /// One page of every resource of `endpoint`, with only `attributes` (no filter).
    pub async fn list_page(
        &self,
        endpoint: &str,
        attributes: &[String],
        start_index: u64,
        count: u64,
    ) -> Result<ListPage, ScimError> {
        let mut url =
            url::Url::parse(&self.url(endpoint)).map_err(|e| ScimError::Client(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("attributes", &attributes.join(","))
            .append_pair("startIndex", &start_index.to_string())
            .append_pair("count", &count.to_string());
        let url = url.to_string();
        let response = self.send(Method::GET, &url, None).await?;
        let list = read_json("GET", &url, response).await?;
        Ok(ListPage {
            resources: resources(&list, "GET", &url)?,
            total: list.get("totalResults").and_then(Value::as_u64),
        })
    }

    pub fn create_request(&self, endpoint: &str, body: &Value) -> SentRequest {
        SentRequest {
            method: "POST".into(),
            url: self.url(endpoint),
            body: Some(body.clone()),
        }
    }

    /// Creates a resource; returns it as the service stored it.
    pub async fn create(&self, endpoint: &str, body: &Value) -> Result<Value, ScimError> {
        let url = self.url(endpoint);
        let response = self.send(Method::POST, &url, Some(body)).await?;
        read_json("POST", &url, response).await
    }

    pub fn patch_request(
        &self,
        endpoint: &str,
        id: &str,
        ops: &[PatchOp],
    ) -> Result<SentRequest, ScimError> {
        Ok(SentRequest {
            method: "PATCH".into(),
            url: self.resource_url(endpoint, id)?,
            body: Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": ops,
            })),
        })
    }

    pub async fn patch(&self, endpoint: &str, id: &str, ops: &[PatchOp]) -> Result<(), ScimError> {
        let req = self.patch_request(endpoint, id, ops)?;
        self.send(Method::PATCH, &req.url, req.body.as_ref())
            .await
            .map(drop)
    }

    pub fn put_request(
        &self,
        endpoint: &str,
        id: &str,
        body: &Value,
    ) -> Result<SentRequest, ScimError> {
        Ok(SentRequest {
            method: "PUT".into(),
            url: self.resource_url(endpoint, id)?,
            body: Some(body.clone()),
        })
    }

    pub async fn put(&self, endpoint: &str, id: &str, body: &Value) -> Result<(), ScimError> {
        let url = self.resource_url(endpoint, id)?;
        self.send(Method::PUT, &url, Some(body)).await.map(drop)
    }

    pub async fn delete(&self, endpoint: &str, id: &str) -> Result<(), ScimError> {
        let url = self.resource_url(endpoint, id)?;
        self.send(Method::DELETE, &url, None).await.map(drop)
    }

    pub async fn get_resource(&self, endpoint: &str, id: &str) -> Result<Value, ScimError> {
        let url = self.resource_url(endpoint, id)?;
        let response = self.send(Method::GET, &url, None).await?;
        read_json("GET", &url, response).await
    }
}

#[cfg(test)]
mod tests {
    use super::resources;
    use serde_json::json;

    #[test]
    fn a_list_response_says_what_matched_or_is_invalid() {
        let ok = |v| resources(&v, "GET", "u").map(|r| r.len()).ok();
        assert_eq!(
            ok(json!({"totalResults": 1, "Resources": [{"id": "a"}]})),
            Some(1)
        );
        assert_eq!(ok(json!({"totalResults": 0})), Some(0));
        assert_eq!(ok(json!({"totalResults": 0, "Resources": null})), Some(0));
        for bad in [
            json!({"totalResults": 1}),
            json!({}),
            json!({"Resources": {"id": "a"}}),
        ] {
            let e = resources(&bad, "GET", "u").unwrap_err();
            assert!(!e.is_transient(), "{e}");
        }
        assert!(
            resources(&json!({"totalResults": 3}), "GET", "u")
                .unwrap_err()
                .to_string()
                .contains("totalResults is 3 but the answer has no \"Resources\"")
        );
    }
}
