//! What can go wrong talking to a SCIM service, and whether it is worth trying again.

use crate::crypto::CryptoError;

#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    #[error("a credential cannot be read: {0}")]
    Secret(#[from] CryptoError),
    #[error("CA file \"{path}\": {message}")]
    CaFile { path: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{method} {url}: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
    },
    #[error("{0}")]
    Status(Box<HttpFailure>),
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp { attempts: u32, last: Box<ScimError> },
    #[error("{method} {url}: unexpected response: {message}")]
    InvalidResponse {
        method: String,
        url: String,
        message: String,
    },
    #[error("OAuth token request to {url} failed: {message}")]
    Token {
        url: String,
        message: String,
        /// The token endpoint could not be reached or failed (5xx, 429), rather than refusing
        /// the client: worth trying again later.
        transient: bool,
    },
}

/// A non-2xx answer from the service (RFC 7644 §3.12 error body, when there is one).
#[derive(Debug, thiserror::Error)]
#[error("{method} {url}: HTTP {status}{}{}", .scim_type.as_ref().map(|t| format!(" ({t})")).unwrap_or_default(), .detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct HttpFailure {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub scim_type: Option<String>,
    pub detail: Option<String>,
    /// The response body as received (cut to 4 KiB).
    pub body: Option<String>,
    pub retry_after: Option<std::time::Duration>,
}

impl ScimError {
    /// Whether the service (or its token endpoint) was down or overloaded — unreachable,
    /// timed out, 5xx, 429 — so that the same request may succeed later, rather than refused.
    /// The one place that decides: the client's retries and the pipes' pauses both ask it.
    pub fn is_transient(&self) -> bool {
        match self {
            ScimError::Transport { .. } => true,
            ScimError::Status(f) => f.status == 429 || f.status >= 500,
            ScimError::GaveUp { last, .. } => last.is_transient(),
            ScimError::Token { transient, .. } => *transient,
            ScimError::Secret(_)
            | ScimError::CaFile { .. }
            | ScimError::Client(_)
            | ScimError::InvalidResponse { .. } => false,
        }
    }

    /// Whether the service asked to slow down (429): a pause, never the request's fault.
    pub fn is_throttled(&self) -> bool {
        self.http_failure().is_some_and(|f| f.status == 429)
    }

    /// The HTTP answer behind the error, if the service answered.
    pub fn http_failure(&self) -> Option<&HttpFailure> {
        match self {
            ScimError::Status(failure) => Some(failure),
            ScimError::GaveUp { last, .. } => last.http_failure(),
            _ => None,
        }
    }
}

/// A short reason for a failed request (reqwest's Display hides the cause).
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut message = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    message
}
