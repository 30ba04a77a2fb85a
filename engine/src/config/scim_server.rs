//! Step 3: the SCIM 2.0 service changes are written to.

use super::validate::Issues;
use super::{ConfigItem, Secret};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ScimServer {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Service base URL without an endpoint, e.g. `https://host/scim/v2`.
    pub base_url: String,
    #[serde(default)]
    pub auth: ScimAuth,
    #[serde(default = "super::default_true")]
    pub verify_certificates: bool,
    /// PEM file of CA certificates trusted in addition to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// How long to wait for a response (PingDataSync's default is 10 s).
    #[serde(default = "default_response_timeout_ms")]
    pub response_timeout_ms: u64,
}

/// What a server left unset gets (the console's form starts from these).
impl ScimServer {
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
    pub const DEFAULT_RESPONSE_TIMEOUT_MS: u64 = 10_000;
}

fn default_connect_timeout_ms() -> u64 {
    ScimServer::DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_response_timeout_ms() -> u64 {
    ScimServer::DEFAULT_RESPONSE_TIMEOUT_MS
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum ScimAuth {
    #[default]
    None,
    Basic {
        username: String,
        password: Secret,
    },
    BearerToken {
        token: Secret,
    },
    /// OAuth 2.0 client-credentials grant (RFC 6749 §4.4); the token is cached until it expires.
    Oauth2ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
}

impl ConfigItem for ScimServer {
    fn secrets_mut(&mut self) -> Vec<(&'static str, &mut Secret)> {
        match &mut self.auth {
            ScimAuth::None => vec![],
            ScimAuth::Basic { password, .. } => vec![("auth.password", password)],
            ScimAuth::BearerToken { token } => vec![("auth.token", token)],
            ScimAuth::Oauth2ClientCredentials { client_secret, .. } => {
                vec![("auth.client-secret", client_secret)]
            }
        }
    }
    fn validate_own(&self, issues: &mut Issues<'_>) {
        if let Some(url) = issues.http_url("base-url", &self.base_url) {
            let last = url
                .path_segments()
                .and_then(|mut s| s.next_back().map(str::to_owned))
                .unwrap_or_default();
            if [
                "users",
                "groups",
                "serviceproviderconfig",
                "schemas",
                "resourcetypes",
            ]
            .contains(&last.to_lowercase().as_str())
            {
                issues.error(
                    "base-url",
                    &self.base_url,
                    format!("must be the service base URL without the endpoint; \"{last}\" is added by the endpoint mappings"),
                );
            }
            if self.ca_file.is_some() && url.scheme() != "https" {
                issues.error(
                    "ca-file",
                    self.ca_file.as_deref().unwrap_or_default(),
                    "only applies to https:// URLs",
                );
            }
        }
        match &self.auth {
            ScimAuth::None => {}
            ScimAuth::Basic { username, password } => {
                if issues.required("auth.username", username) && username.contains(':') {
                    issues.error(
                        "auth.username",
                        username,
                        "must not contain ':' (HTTP Basic separates user and password with it)",
                    );
                }
                issues.secret("auth.password", password);
            }
            ScimAuth::BearerToken { token } => issues.secret("auth.token", token),
            ScimAuth::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                issues.http_url("auth.token-url", token_url);
                issues.required("auth.client-id", client_id);
                issues.secret("auth.client-secret", client_secret);
                if scope.as_deref().is_some_and(|s| s.trim().is_empty()) {
                    issues.error("auth.scope", "", "must not be blank when given");
                }
            }
        }
        issues.optional_path("ca-file", &self.ca_file);
        issues.range("connect-timeout-ms", self.connect_timeout_ms, 100, 600_000);
        issues.range(
            "response-timeout-ms",
            self.response_timeout_ms,
            100,
            3_600_000,
        );
    }
}
