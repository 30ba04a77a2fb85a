//! Request authorisation for a SCIM server: none, HTTP Basic, a static bearer token, or an
//! OAuth 2.0 client-credentials token that is cached until shortly before it expires.

use super::ScimError;
use crate::config::ScimAuth;
use crate::crypto::Cipher;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub(crate) enum Authorizer {
    None,
    Header(String),
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        scope: Option<String>,
        cached: Mutex<Option<(String, Instant)>>,
    },
}

/// Renew tokens this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

impl Authorizer {
    pub(crate) fn new(auth: &ScimAuth, cipher: &Cipher) -> Result<Authorizer, ScimError> {
        use base64::Engine as _;
        Ok(match auth {
            ScimAuth::None => Authorizer::None,
            ScimAuth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose(cipher)?);
                Authorizer::Header(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            ScimAuth::BearerToken { token } => {
                Authorizer::Header(format!("Bearer {}", token.expose(cipher)?))
            }
            ScimAuth::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => Authorizer::ClientCredentials {
                token_url: token_url.clone(),
                client_id: client_id.clone(),
                client_secret: client_secret.expose(cipher)?,
                scope: scope.clone(),
                cached: Mutex::new(None),
            },
        })
    }

    /// The Authorization header value, fetching a token if needed.
    pub(crate) async fn header(&self, http: &reqwest::Client) -> Result<Option<String>, ScimError> {
        match self {
            Authorizer::None => Ok(None),
            Authorizer::Header(h) => Ok(Some(h.clone())),
            Authorizer::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
                cached,
            } => {
                let mut cached = cached.lock().await;
                if let Some((token, expires)) = cached.as_ref()
                    && Instant::now() + EXPIRY_MARGIN < *expires
                {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let (token, lifetime) =
                    fetch_token(http, token_url, client_id, client_secret, scope.as_deref())
                        .await?;
                *cached = Some((token.clone(), Instant::now() + lifetime));
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// Drops a cached token after the server answered 401; true when a retry may help.
    pub(crate) async fn invalidate(&self) -> bool {
        match self {
            Authorizer::ClientCredentials { cached, .. } => cached.lock().await.take().is_some(),
            _ => false,
        }
    }
}

async fn fetch_token(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    scope: Option<&str>,
) -> Result<(String, Duration), ScimError> {
    let token_error = |message: String, transient: bool| ScimError::Token {
        url: token_url.to_owned(),
        message,
        transient,
    };
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let response = http
        .post(token_url)
        .basic_auth(client_id, Some(client_secret))
        .form(&form)
        .send()
        .await
        .map_err(|e| token_error(super::error::describe_transport(&e), true))?;
    let status = response.status();
    // The endpoint failing or overloaded may recover; a refusal (invalid_client …) will not.
    let transient = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| token_error(format!("HTTP {status}, unreadable body: {e}"), transient))?;
    if !status.is_success() {
        let error = body
            .get("error")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown error");
        return Err(token_error(format!("HTTP {status}: {error}"), transient));
    }
    let token = body
        .get("access_token")
        .and_then(|v| v.as_str())
        .ok_or_else(|| token_error("the response has no access_token".into(), false))?;
    let lifetime = body
        .get("expires_in")
        .and_then(|v| v.as_u64())
        .unwrap_or(3600);
    Ok((token.to_owned(), Duration::from_secs(lifetime)))
}
