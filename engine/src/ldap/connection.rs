//! Connecting and binding to a sync source, trying its servers in failover order.

use super::entry_decode::decode_entry;
use super::{LdapError, describe_result, tls};
use crate::config::{ConnectionSecurity, HostPort, LdapSource};
use crate::crypto::Cipher;
use crate::mapping::LdapEntry;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use std::time::Duration;

/// A bound connection to one server of a source. Clones share the connection (LDAP
/// multiplexes operations), so parallel workers can read through one bind.
#[derive(Clone)]
pub struct LdapConnection {
    pub ldap: Ldap,
    pub server: HostPort,
    /// Servers tried before this one, with why they failed.
    pub skipped: Vec<String>,
    pub response_timeout: Duration,
}

impl LdapConnection {
    /// The handle with the source's response timeout applied to the next operation.
    pub fn op(&mut self) -> &mut Ldap {
        self.ldap.with_timeout(self.response_timeout)
    }

    pub async fn close(mut self) {
        let _ = self.ldap.unbind().await;
    }
}

pub async fn connect(source: &LdapSource, cipher: &Cipher) -> Result<LdapConnection, LdapError> {
    let password = source.bind_password.expose(cipher)?;
    let tls_config = match (
        &source.ca_file,
        source.connection_security,
        source.verify_certificates,
    ) {
        (Some(ca), ConnectionSecurity::Ldaps | ConnectionSecurity::StartTls, true) => {
            Some(tls::client_config(ca)?)
        }
        _ => None,
    };
    let mut failures = Vec::new();
    for server in &source.servers {
        let scheme = if source.connection_security == ConnectionSecurity::Ldaps {
            "ldaps"
        } else {
            "ldap"
        };
        let url = format!("{scheme}://{server}");
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_millis(source.connect_timeout_ms))
            .set_starttls(source.connection_security == ConnectionSecurity::StartTls)
            .set_no_tls_verify(!source.verify_certificates);
        if let Some(config) = &tls_config {
            settings = settings.set_config(config.clone());
        }
        let (conn, mut ldap) = match LdapConnAsync::with_settings(settings, &url).await {
            Ok(pair) => pair,
            Err(e) => {
                failures.push(format!("{server}: cannot connect: {e}"));
                continue;
            }
        };
        ldap3::drive!(conn);
        let timeout = Duration::from_millis(source.response_timeout_ms);
        match ldap
            .with_timeout(timeout)
            .simple_bind(&source.bind_dn, &password)
            .await
        {
            Ok(result) if result.rc == 0 => {
                return Ok(LdapConnection {
                    ldap,
                    server: server.clone(),
                    skipped: failures,
                    response_timeout: timeout,
                });
            }
            Ok(result) => failures.push(format!(
                "{server}: bind as \"{}\" refused: {}",
                source.bind_dn,
                describe_result(result.rc, &result.text)
            )),
            Err(e) => failures.push(format!("{server}: bind failed: {e}")),
        }
        let _ = ldap.unbind().await;
    }
    Err(LdapError::AllServersFailed(failures))
}

impl LdapConnection {
    /// Starts a search read in pages of `page_size`; entries come one by one from
    /// [`PagedSearch::next`], so a large directory is never held in memory.
    pub async fn search_pages(
        &mut self,
        base: &str,
        scope: ldap3::Scope,
        filter: &str,
        attrs: Vec<String>,
        page_size: u32,
    ) -> Result<PagedSearch, LdapError> {
        let what = format!("searching \"{base}\" with {filter}");
        let adapters: Vec<Box<dyn ldap3::adapters::Adapter<String, Vec<String>>>> = vec![
            Box::new(ldap3::adapters::EntriesOnly::new()),
            Box::new(ldap3::adapters::PagedResults::new(
                page_size.clamp(1, i32::MAX as u32) as i32,
            )),
        ];
        let timeout = self.response_timeout;
        let stream = self
            .ldap
            .with_timeout(timeout)
            .streaming_search_with(adapters, base, scope, filter, attrs)
            .await
            .map_err(|e| LdapError::op(&what, e))?;
        Ok(PagedSearch {
            stream,
            what,
            base: base.to_owned(),
            count: 0,
            done: false,
        })
    }

    /// Subtree search in pages, calling `each` per entry; returns how many were read.
    pub async fn paged_search(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[&str],
        page_size: u32,
        mut each: impl FnMut(LdapEntry),
    ) -> Result<u64, LdapError> {
        let attrs = attrs.iter().map(|a| a.to_string()).collect();
        let mut search = self
            .search_pages(base, ldap3::Scope::Subtree, filter, attrs, page_size)
            .await?;
        while let Some(entry) = search.next().await? {
            each(entry);
        }
        Ok(search.count)
    }

    /// A search for at most `limit` entries; also says whether the server had more (a size
    /// limit the client asked for is not an error).
    pub async fn search_limited(
        &mut self,
        base: &str,
        scope: ldap3::Scope,
        filter: &str,
        attrs: Vec<String>,
        limit: i32,
    ) -> Result<(Vec<ldap3::SearchEntry>, bool), LdapError> {
        let what = || format!("searching \"{base}\" with {filter}");
        let timeout = self.response_timeout;
        let result = self
            .ldap
            .with_search_options(ldap3::SearchOptions::new().sizelimit(limit))
            .with_timeout(timeout)
            .search(base, scope, filter, attrs)
            .await
            .map_err(|e| LdapError::op(what(), e))?;
        let entries = || {
            result
                .0
                .iter()
                .cloned()
                .map(ldap3::SearchEntry::construct)
                .collect()
        };
        match result.1.rc {
            0 => Ok((entries(), false)),
            4 => Ok((entries(), true)),
            32 => Err(LdapError::NoSuchObject(base.to_owned())),
            34 => Err(LdapError::InvalidDn(base.to_owned())),
            rc => Err(LdapError::Operation {
                operation: what(),
                message: describe_result(rc, &result.1.text),
            }),
        }
    }

    /// The entry at `dn` with `attrs`, or `None` if it does not exist (or is not visible).
    pub async fn fetch_entry(
        &mut self,
        dn: &str,
        attrs: &[String],
    ) -> Result<Option<crate::mapping::LdapEntry>, LdapError> {
        match self
            .search_limited(dn, ldap3::Scope::Base, "(objectClass=*)", attrs.to_vec(), 1)
            .await
        {
            Ok((entries, _)) => Ok(entries.into_iter().next().map(Into::into)),
            // A DN the server cannot even parse (e.g. an unknown attribute type) names nothing.
            Err(LdapError::NoSuchObject(_) | LdapError::InvalidDn(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether `dn` exists and is visible to the bind DN.
    pub async fn entry_exists(&mut self, dn: &str) -> Result<bool, LdapError> {
        match self
            .op()
            .search(dn, ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
            .await
        {
            Ok(result) if result.1.rc == 0 => Ok(!result.0.is_empty()),
            Ok(result) if result.1.rc == 32 => Ok(false),
            Ok(result) => Err(LdapError::Operation {
                operation: format!("reading \"{dn}\""),
                message: describe_result(result.1.rc, &result.1.text),
            }),
            Err(e) => Err(LdapError::op(format!("reading \"{dn}\""), e)),
        }
    }
}

/// A search in progress (see [`LdapConnection::search_pages`]).
pub struct PagedSearch {
    stream: ldap3::SearchStream<'static, String, Vec<String>>,
    what: String,
    base: String,
    count: u64,
    done: bool,
}

impl PagedSearch {
    /// The next entry; `None` at the end. Any final result other than success (a size or
    /// admin limit included) is an error, never a silently short read.
    pub async fn next(&mut self) -> Result<Option<LdapEntry>, LdapError> {
        if self.done {
            return Ok(None);
        }
        match self.stream.next().await {
            Ok(Some(entry)) => {
                self.count += 1;
                decode_entry(entry.0).map(Some).map_err(|message| {
                    self.done = true;
                    LdapError::Operation {
                        operation: self.what.clone(),
                        message: format!("the server sent a malformed entry ({message})"),
                    }
                })
            }
            Ok(None) => {
                self.done = true;
                let result = self.stream.finish().await;
                match result.rc {
                    0 => Ok(None),
                    32 => Err(LdapError::NoSuchObject(self.base.clone())),
                    rc => Err(LdapError::Operation {
                        operation: self.what.clone(),
                        message: format!(
                            "ended with result {} after {} entries",
                            describe_result(rc, &result.text),
                            self.count
                        ),
                    }),
                }
            }
            Err(e) => {
                self.done = true;
                Err(LdapError::op(&self.what, e))
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}
