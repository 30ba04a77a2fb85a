//! Step 1: the LDAP directory changes are read from.

use super::validate::Issues;
use super::{ConfigItem, Secret};
use crate::dn::Dn;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LdapSource {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Directory servers in failover order.
    pub servers: Vec<HostPort>,
    #[serde(default)]
    pub connection_security: ConnectionSecurity,
    #[serde(default = "super::default_true")]
    pub verify_certificates: bool,
    /// PEM file of CA certificates trusted in addition to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    pub bind_dn: String,
    pub bind_password: Secret,
    /// Subtrees to synchronise; they must not overlap.
    pub base_dns: Vec<String>,
    #[serde(default)]
    pub changelog: ChangelogFlavor,
    /// Suffix of OpenLDAP's accesslog database (only for `openldap-accesslog`).
    #[serde(default = "default_accesslog_base_dn")]
    pub accesslog_base_dn: String,
    /// Ask the server to push new changelog records (persistent search, or syncrepl on the
    /// accesslog) instead of waiting for the next poll; polling stays the fallback.
    #[serde(default = "super::default_true")]
    pub push_changes: bool,
    /// Entries per page in searches and changelog records per poll.
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_response_timeout_ms")]
    pub response_timeout_ms: u64,
}

/// What a source left unset gets (the console's form starts from these).
impl LdapSource {
    pub const DEFAULT_ACCESSLOG_BASE_DN: &str = "cn=accesslog";
    pub const DEFAULT_BATCH_SIZE: u32 = 500;
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
    pub const DEFAULT_RESPONSE_TIMEOUT_MS: u64 = 30_000;
}

pub(crate) fn default_accesslog_base_dn() -> String {
    LdapSource::DEFAULT_ACCESSLOG_BASE_DN.to_owned()
}
fn default_batch_size() -> u32 {
    LdapSource::DEFAULT_BATCH_SIZE
}
fn default_connect_timeout_ms() -> u64 {
    LdapSource::DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_response_timeout_ms() -> u64 {
    LdapSource::DEFAULT_RESPONSE_TIMEOUT_MS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionSecurity {
    #[default]
    None,
    Ldaps,
    StartTls,
}

/// Which change log the source keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangelogFlavor {
    /// `cn=changelog` (draft-good-ldap-changelog): PingDirectory, 389 DS Retro Changelog, OpenDJ.
    #[default]
    DraftGood,
    /// OpenLDAP's accesslog overlay (`reqStart`, `reqType`, `reqDN`, `reqMod`).
    OpenldapAccesslog,
}

/// `host:port`, with IPv6 hosts in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for HostPort {
    type Err = String;
    fn from_str(text: &str) -> Result<HostPort, String> {
        let text = text.trim();
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("\"{text}\" is not host:port (e.g. ldap.example.com:389)"))?;
        let port: u16 =
            port.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
                format!("\"{port}\" in \"{text}\" is not a port number (1-65535)")
            })?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
            return Err(format!("\"{text}\" does not start with a valid host name"));
        }
        Ok(HostPort {
            host: host.to_owned(),
            port,
        })
    }
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Serialize for HostPort {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HostPort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<HostPort, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl ConfigItem for LdapSource {
    fn secrets_mut(&mut self) -> Vec<(&'static str, &mut Secret)> {
        vec![("bind-password", &mut self.bind_password)]
    }
    fn validate_own(&self, issues: &mut Issues<'_>) {
        issues.non_empty_list("servers", &self.servers, "server (host:port)");
        let servers: Vec<String> = self.servers.iter().map(ToString::to_string).collect();
        issues.unique("servers", &servers, true);
        if issues.required("bind-dn", &self.bind_dn) {
            issues.dn("bind-dn", &self.bind_dn);
        }
        issues.secret("bind-password", &self.bind_password);
        if issues.non_empty_list("base-dns", &self.base_dns, "base DN") {
            let parsed: Vec<(usize, Dn)> = self
                .base_dns
                .iter()
                .enumerate()
                .filter_map(|(i, b)| issues.dn(&format!("base-dns[{i}]"), b).map(|d| (i, d)))
                .collect();
            for (i, a) in &parsed {
                if let Some((j, _)) = parsed
                    .iter()
                    .find(|(j, b)| j != i && a.is_within(b) && (j < i || !b.is_within(a)))
                {
                    issues.error(
                        format!("base-dns[{i}]"),
                        &self.base_dns[*i],
                        format!(
                            "overlaps base DN \"{}\"; base DNs must not overlap",
                            self.base_dns[*j]
                        ),
                    );
                }
            }
        }
        if self.changelog == ChangelogFlavor::OpenldapAccesslog
            && issues.required("accesslog-base-dn", &self.accesslog_base_dn)
        {
            issues.dn("accesslog-base-dn", &self.accesslog_base_dn);
        }
        if self.ca_file.is_some() && self.connection_security == ConnectionSecurity::None {
            issues.error(
                "ca-file",
                self.ca_file.as_deref().unwrap_or_default(),
                "only applies with connection-security ldaps or start-tls",
            );
        }
        issues.optional_path("ca-file", &self.ca_file);
        issues.range("batch-size", self.batch_size.into(), 1, 10_000);
        issues.range("connect-timeout-ms", self.connect_timeout_ms, 100, 600_000);
        issues.range(
            "response-timeout-ms",
            self.response_timeout_ms,
            100,
            3_600_000,
        );
    }
}
