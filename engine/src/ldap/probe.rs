//! "Test connection" for an LDAP sync source: bind, read the root DSE, check the base DNs,
//! find which changelog the server keeps and which id it knows entries by.

use super::changelog_head::{accesslog_head, draft_good_head};
use super::{ChangelogHead, LdapError, RootDse, connect};
use crate::config::{ChangelogFlavor, LdapSource};
use crate::crypto::Cipher;
use crate::entry_id::EntryIdAttribute;
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
    /// Which attribute identifies the source's entries and whether its changelog records it,
    /// in a sentence (`None` when no base DN could be read to tell).
    #[serde(default)]
    pub entry_ids: Option<String>,
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
    let entry_ids = match conn.identify_entries(source).await {
        Ok(attribute) => {
            let recorded = conn.changelog_records_ids(source).await.unwrap_or(None);
            let (said, problem) = entry_ids_said(source.changelog, attribute, recorded);
            problems.extend(problem);
            Some(said)
        }
        Err(_) => None,
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
        entry_ids,
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

/// What Test connection says of the source's entry ids, and the problem to act on, if any.
fn entry_ids_said(
    flavour: ChangelogFlavor,
    attribute: EntryIdAttribute,
    recorded: Option<bool>,
) -> (String, Option<String>) {
    let recorded_as = match flavour {
        ChangelogFlavor::DraftGood => "targetUniqueId",
        ChangelogFlavor::OpenldapAccesslog => "reqEntryUUID",
    };
    if attribute == EntryIdAttribute::Dn {
        let said = "the DN: entries have neither entryUUID nor nsUniqueId, so a renamed entry is found by its old DN".to_owned();
        return (said, None);
    }
    match recorded {
        Some(true) => (
            format!("{attribute}, which the changelog records with each change ({recorded_as})"),
            None,
        ),
        None => (
            format!(
                "{attribute} (the changelog holds no record yet to show that it records it as {recorded_as})"
            ),
            None,
        ),
        Some(false) => {
            let fix = match flavour {
                ChangelogFlavor::DraftGood => {
                    "; on 389 DS, add \"nsslapd-attribute: nsuniqueid:targetUniqueId\" to the Retro Changelog Plugin"
                }
                ChangelogFlavor::OpenldapAccesslog => "",
            };
            (
                format!(
                    "{attribute}; the changelog's records name no entry id, so a deleted entry's resource is found by its DN"
                ),
                Some(format!(
                    "the changelog records no entry id ({recorded_as}): deletes find their resources by DN only{fix}"
                )),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_say_what_the_changelog_records() {
        use ChangelogFlavor::*;
        use EntryIdAttribute::*;
        let (said, problem) = entry_ids_said(DraftGood, NsUniqueId, Some(true));
        assert_eq!(
            said,
            "nsUniqueId, which the changelog records with each change (targetUniqueId)"
        );
        assert_eq!(problem, None);
        let (said, problem) = entry_ids_said(DraftGood, NsUniqueId, Some(false));
        assert!(said.contains("found by its DN"), "{said}");
        assert!(
            problem
                .unwrap()
                .contains("nsslapd-attribute: nsuniqueid:targetUniqueId")
        );
        let (said, _) = entry_ids_said(OpenldapAccesslog, EntryUuid, None);
        assert!(
            said.starts_with("entryUUID (the changelog holds no record yet"),
            "{said}"
        );
        let (said, problem) = entry_ids_said(DraftGood, Dn, Some(false));
        assert!(said.starts_with("the DN"), "{said}");
        assert_eq!(problem, None);
    }
}
