//! "Test connection" for an LDAP sync source: bind, read the root DSE, check the base DNs
//! and find which changelog the server keeps.

use super::changelog_head::{accesslog_head, draft_good_head};
use super::{ChangelogHead, LdapError, RootDse, connect};
use crate::config::{ChangelogFlavor, LdapSource};
use crate::crypto::Cipher;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseDnCheck {
    pub dn: String,
    pub found: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdapProbeReport {
    /// The server that answered (host:port).
    pub server: String,
    /// Servers earlier in the failover list that failed, and why.
    pub skipped: Vec<String>,
    pub bound_as: String,
    pub vendor: Option<String>,
    pub naming_contexts: Vec<String>,
    pub paged_results: bool,
    pub base_dns: Vec<BaseDnCheck>,
    /// The changelog found for the configured flavour, if any.
    pub changelog: Option<ChangelogHead>,
    /// Problems an admin should act on (empty when everything is ready).
    pub problems: Vec<String>,
}

pub async fn probe(source: &LdapSource, cipher: &Cipher) -> Result<LdapProbeReport, LdapError> {
    let mut conn = connect(source, cipher).await?;
    let dse = RootDse::read(&mut conn).await?;
    let mut problems = Vec::new();
    let mut base_dns = Vec::new();
    for dn in &source.base_dns {
        let found = conn.entry_exists(dn).await?;
        if !found {
            problems.push(format!(
                "base DN \"{dn}\" does not exist or is not visible to \"{}\"",
                source.bind_dn
            ));
        }
        base_dns.push(BaseDnCheck {
            dn: dn.clone(),
            found,
        });
    }
    if !dse.supports_paged_results() {
        problems.push("the server does not advertise the paged results control; large resyncs may hit size limits".into());
    }
    let changelog = match source.changelog {
        ChangelogFlavor::DraftGood => draft_good_head(&dse),
        ChangelogFlavor::OpenldapAccesslog => accesslog_head(&mut conn, source).await,
    };
    let changelog = match changelog {
        Ok(head) => Some(head),
        Err(e) => {
            problems.push(format!(
                "changelog ({}): {e}",
                flavour_name(source.changelog)
            ));
            // Say what the server does offer, so a wrong flavour is obvious.
            if source.changelog == ChangelogFlavor::DraftGood
                && dse
                    .naming_contexts
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&source.accesslog_base_dn))
            {
                problems.push(format!(
                    "the server has \"{}\" among its naming contexts: choose the openldap-accesslog changelog",
                    source.accesslog_base_dn
                ));
            } else if source.changelog == ChangelogFlavor::OpenldapAccesslog
                && draft_good_head(&dse).is_ok()
            {
                problems.push("the server advertises a draft-good cn=changelog: choose the draft-good changelog".into());
            }
            None
        }
    };
    let report = LdapProbeReport {
        server: conn.server.to_string(),
        skipped: conn.skipped.clone(),
        bound_as: source.bind_dn.clone(),
        vendor: dse.vendor.clone(),
        naming_contexts: dse.naming_contexts.clone(),
        paged_results: dse.supports_paged_results(),
        base_dns,
        changelog,
        problems,
    };
    conn.close().await;
    Ok(report)
}

fn flavour_name(flavour: ChangelogFlavor) -> &'static str {
    match flavour {
        ChangelogFlavor::DraftGood => "draft-good",
        ChangelogFlavor::OpenldapAccesslog => "openldap-accesslog",
    }
}
