//! HTTP access to one SCIM 2.0 server: base URL, TLS settings, timeouts, authorisation and
//! SCIM error bodies turned into typed errors.

use super::auth::Authorizer;
use super::error::{HttpFailure, ScimError, describe_transport};
use super::rate::RateLimiter;
use super::retry_policy::{RetryPolicy, parse_retry_after};
use crate::config::ScimServer;
use crate::crypto::Cipher;
use std::sync::Arc;
use std::time::Duration;

pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

pub struct ScimClient {
    http: reqwest::Client,
    base_url: String,
    authorizer: Authorizer,
    policy: RetryPolicy,
    limiter: Option<Arc<RateLimiter>>,
}

impl ScimClient {
    pub fn new(server: &ScimServer, cipher: &Cipher) -> Result<ScimClient, ScimError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("scimsync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_millis(server.connect_timeout_ms))
            .timeout(Duration::from_millis(server.response_timeout_ms))
            .pool_idle_timeout(Duration::from_secs(60))
            .danger_accept_invalid_certs(!server.verify_certificates);
        if let Some(path) = &server.ca_file {
            let ca_error = |message: String| ScimError::CaFile {
                path: path.clone(),
                message,
            };
            let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_error("holds no PEM certificate".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| ScimError::Client(e.to_string()))?;
        Ok(ScimClient {
            http,
            base_url: server.base_url.trim_end_matches('/').to_owned(),
            authorizer: Authorizer::new(&server.auth, cipher)?,
            policy: RetryPolicy::default(),
            limiter: None,
        })
    }

    /// Retries retryable failures per `policy`.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Shares a requests-per-second limit.
    pub fn with_rate_limit(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The service's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Takes `slots` extra places under the rate limit (a Bulk request's further operations).
    pub(crate) async fn pace(&self, slots: usize) {
        if let Some(limiter) = &self.limiter {
            for _ in 0..slots {
                limiter.acquire().await;
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// GET a SCIM document (relative to the base URL) as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ScimError> {
        let url = self.url(path);
        let response = self.send(reqwest::Method::GET, &url, None).await?;
        read_json("GET", &url, response).await
    }

    /// Whether the service answers at all: one GET of /ServiceProviderConfig, without retries.
    /// Any answer but a transient failure (unreachable, 5xx, 429, its token endpoint down)
    /// counts: it tells a destination that is down from one that fails a single request.
    pub async fn answers(&self) -> bool {
        let url = self.url("ServiceProviderConfig");
        match self.send_once(reqwest::Method::GET, &url, None).await {
            Ok(_) => true,
            Err(e) => !e.is_transient(),
        }
    }

    /// Sends a request with authorisation, retrying per the policy. A 401 with a cached
    /// OAuth token is retried once with a fresh token. Non-2xx answers become
    /// [`ScimError::Status`]; retries that run out become [`ScimError::GaveUp`].
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, ScimError> {
        let mut attempt = 1;
        loop {
            match self.send_once(method.clone(), url, body).await {
                Ok(response) => return Ok(response),
                Err(error) => match self.policy.delay(&error, attempt) {
                    Some(wait) => {
                        tracing::debug!("{error}; retrying in {wait:?}");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    None if attempt > 1 => {
                        return Err(ScimError::GaveUp {
                            attempts: attempt,
                            last: Box::new(error),
                        });
                    }
                    None => return Err(error),
                },
            }
        }
    }

    async fn send_once(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, ScimError> {
        let mut retried_auth = false;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.acquire().await;
            }
            let mut request = self
                .http
                .request(method.clone(), url)
                .header(reqwest::header::ACCEPT, SCIM_MEDIA_TYPE);
            if let Some(auth) = self.authorizer.header(&self.http).await? {
                request = request.header(reqwest::header::AUTHORIZATION, auth);
            }
            if let Some(b) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, SCIM_MEDIA_TYPE)
                    .body(b.to_string());
            }
            let sent = std::time::Instant::now();
            let response = request.send().await;
            crate::metrics::counters().request(
                method.as_str(),
                response.as_ref().ok().map(|r| r.status().as_u16()),
                sent.elapsed(),
            );
            let response = response.map_err(|e| ScimError::Transport {
                method: method.to_string(),
                url: url.to_owned(),
                message: describe_transport(&e),
            })?;
            let status = response.status();
            if status == reqwest::StatusCode::UNAUTHORIZED
                && !retried_auth
                && self.authorizer.invalidate().await
            {
                retried_auth = true;
                continue;
            }
            if status.is_success() {
                return Ok(response);
            }
            return Err(status_error(method.as_str(), url, response).await);
        }
    }
}

/// A SCIM error body (RFC 7644 §3.12) turned into a typed error; `status` may be a string.
async fn status_error(method: &str, url: &str, response: reqwest::Response) -> ScimError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let text = response.text().await.unwrap_or_default();
    let body: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let field = |name: &str| {
        body.as_ref()
            .and_then(|b| b.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let detail = field("detail").or_else(|| {
        let t = text.trim();
        (!t.is_empty() && body.is_none()).then(|| t.chars().take(300).collect())
    });
    let body = (!text.is_empty()).then(|| text.chars().take(4096).collect());
    ScimError::Status(Box::new(HttpFailure {
        method: method.to_owned(),
        url: url.to_owned(),
        status,
        scim_type: field("scimType"),
        detail,
        body,
        retry_after,
    }))
}

pub(crate) async fn read_json(
    method: &str,
    url: &str,
    response: reqwest::Response,
) -> Result<serde_json::Value, ScimError> {
    response
        .json()
        .await
        .map_err(|e| ScimError::InvalidResponse {
            method: method.to_owned(),
            url: url.to_owned(),
            message: format!("the body is not JSON: {e}"),
        })
}
