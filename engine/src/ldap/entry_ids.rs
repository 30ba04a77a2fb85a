//! What the source says about its entries' ids: which attribute identifies them (judged from
//! one of its entries), whether its changelog records that id with each change, and which
//! entries have given ids (to re-key correlations written under another id).

use super::{ChangelogHead, LdapConnection, LdapError, RootDse, read_changelog_head};
use crate::config::LdapSource;
use crate::entry_id::{EntryIdAttribute, ID_ATTRIBUTES, id_attributes};
use crate::mapping::LdapEntry;

/// The attributes each kind of changelog names an entry's id in.
const RECORDED_AS: [&str; 3] = ["targetUniqueId", "targetEntryUUID", "reqEntryUUID"];

impl LdapConnection {
    /// The attribute that identifies the source's entries, judged from the first of its base
    /// DNs that can be read.
    pub async fn identify_entries(
        &mut self,
        source: &LdapSource,
    ) -> Result<EntryIdAttribute, LdapError> {
        for base in &source.base_dns {
            if let Some(sample) = self.fetch_entry(base, &id_attributes()).await? {
                return Ok(EntryIdAttribute::decide(source.changelog, &sample));
            }
        }
        Err(LdapError::Operation {
            operation: "telling which attribute identifies the source's entries".into(),
            message: format!(
                "none of its base DNs ({}) can be read by \"{}\"",
                source.base_dns.join("; "),
                source.bind_dn
            ),
        })
    }

    /// The entries below `bases` (see [`Self::id_search_bases`]) that have one of `ids` as
    /// entryUUID or nsUniqueId, read with both attributes, `page_size` per page.
    pub async fn entries_with_ids(
        &mut self,
        bases: &[String],
        ids: &[String],
        page_size: u32,
    ) -> Result<Vec<LdapEntry>, LdapError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut filter = String::from("(|");
        for id in ids {
            let id = ldap3::ldap_escape(id.as_str());
            for attribute in ID_ATTRIBUTES {
                filter.push_str(&format!("({attribute}={id})"));
            }
        }
        filter.push(')');
        let mut found = Vec::new();
        for base in bases {
            let mut search = self
                .search_pages(
                    base,
                    ldap3::Scope::Subtree,
                    &filter,
                    id_attributes(),
                    page_size,
                )
                .await?;
            while let Some(entry) = search.next().await? {
                found.push(entry);
            }
        }
        Ok(found)
    }

    /// Whether the changelog's newest record names its entry's id (`None`: it holds no
    /// record to tell by).
    pub async fn changelog_records_ids(
        &mut self,
        source: &LdapSource,
    ) -> Result<Option<bool>, LdapError> {
        let (base, filter) = match read_changelog_head(self, source).await? {
            ChangelogHead::DraftGood {
                base_dn,
                last_change_number,
                ..
            } if last_change_number > 0 => {
                (base_dn, format!("(changeNumber={last_change_number})"))
            }
            ChangelogHead::Accesslog {
                base_dn,
                newest_req_start: Some(newest),
            } => (base_dn, format!("(reqStart={newest})")),
            _ => return Ok(None),
        };
        let attrs = RECORDED_AS.iter().map(|a| (*a).to_owned()).collect();
        let (records, _) = self
            .search_limited(&base, ldap3::Scope::Subtree, &filter, attrs, 1)
            .await?;
        Ok(records.first().map(|record| {
            RECORDED_AS
                .iter()
                .any(|a| super::root_dse::first(record, a).is_some())
        }))
    }
}

/// Where entries are searched for by id: the naming contexts that hold a base DN of the
/// source (an entry moved out of scope is found too); the base DNs themselves when the root
/// DSE names none.
pub(crate) async fn id_search_bases(
    conn: &mut LdapConnection,
    source: &LdapSource,
) -> Result<Vec<String>, LdapError> {
    let contexts = RootDse::read(conn).await?.naming_contexts;
    let within =
        |dn: &str, context: &str| match (crate::dn::Dn::parse(dn), crate::dn::Dn::parse(context)) {
            (Ok(dn), Ok(context)) => dn.is_within(&context),
            _ => false,
        };
    let mut bases: Vec<String> = Vec::new();
    for base in &source.base_dns {
        let holder = contexts
            .iter()
            .find(|c| within(base, c))
            .cloned()
            .unwrap_or_else(|| base.clone());
        if !bases.contains(&holder) {
            bases.push(holder);
        }
    }
    Ok(bases)
}
