//! The root DSE: what the server is and what it supports.

use super::{LdapConnection, LdapError};
use ldap3::{Scope, SearchEntry};

pub const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";

#[derive(Debug, Clone, Default)]
pub struct RootDse {
    pub vendor: Option<String>,
    pub naming_contexts: Vec<String>,
    pub supported_controls: Vec<String>,
    /// Draft-good changelog base (`changelog` attribute).
    pub changelog: Option<String>,
    pub first_change_number: Option<u64>,
    pub last_change_number: Option<u64>,
}

/// Values of `attr`, matched case-insensitively (servers differ in the case they return).
pub(crate) fn values<'a>(entry: &'a SearchEntry, attr: &str) -> &'a [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}

pub(crate) fn first<'a>(entry: &'a SearchEntry, attr: &str) -> Option<&'a str> {
    values(entry, attr).first().map(String::as_str)
}

impl RootDse {
    pub async fn read(conn: &mut LdapConnection) -> Result<RootDse, LdapError> {
        let attrs = vec![
            "*",
            "+",
            "namingContexts",
            "supportedControl",
            "vendorName",
            "vendorVersion",
            "changelog",
            "firstChangeNumber",
            "lastChangeNumber",
        ];
        let (entries, _) = conn
            .op()
            .search("", Scope::Base, "(objectClass=*)", attrs)
            .await
            .and_then(|r| r.success())
            .map_err(|e| LdapError::op("reading the root DSE", e))?;
        let Some(entry) = entries.into_iter().next().map(SearchEntry::construct) else {
            return Ok(RootDse::default());
        };
        let number = |attr| first(&entry, attr).and_then(|v| v.trim().parse::<u64>().ok());
        let vendor = match (first(&entry, "vendorName"), first(&entry, "vendorVersion")) {
            (Some(n), Some(v)) => Some(format!("{n} {v}")),
            (Some(n), None) => Some(n.to_owned()),
            (None, Some(v)) => Some(v.to_owned()),
            (None, None) => None,
        };
        Ok(RootDse {
            vendor,
            naming_contexts: values(&entry, "namingContexts").to_vec(),
            supported_controls: values(&entry, "supportedControl").to_vec(),
            changelog: first(&entry, "changelog").map(str::to_owned),
            first_change_number: number("firstChangeNumber"),
            last_change_number: number("lastChangeNumber"),
        })
    }

    pub fn supports_paged_results(&self) -> bool {
        self.supported_controls
            .iter()
            .any(|c| c == PAGED_RESULTS_OID)
    }
}
