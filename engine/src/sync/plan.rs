//! A sync pipe made ready to run: its classes in evaluation order with parsed filters and
//! base DNs, a mapper per endpoint, and a SCIM client with the pipe's retries and rate.

use super::delete_guard::DeleteGuard;
use crate::changelog::ChangelogPasswordKey;
use crate::config::{
    Config, EndpointMapping, LdapSource, ScimDestination, ScimServer, SyncClass, SyncPipe, WORKERS,
};
use crate::crypto::{Cipher, CryptoError};
use crate::dn::Dn;
use crate::entry_id::EntryIdAttribute;
use crate::ldap_filter::Filter;
use crate::mapping::{EndpointMapper, LdapEntry};
use crate::scim::{BulkWriter, Destination, RateLimiter, RetryPolicy, ScimClient, ScimError};
use crate::source::{LdapConnector, SourceConnector};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("there is no sync pipe named \"{0}\"")]
    NoPipe(String),
    #[error("the configuration is incomplete: {0}")]
    Incomplete(String),
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error("changelog password decryption key: {0}")]
    PasswordKey(CryptoError),
}

pub struct ClassPlan {
    pub class: SyncClass,
    bases: Vec<Dn>,
    filter: Option<Filter>,
    /// `None` for a class that synchronises nothing.
    pub mapper: Option<Arc<EndpointMapper>>,
}

impl ClassPlan {
    fn matches(&self, dn: &Option<Dn>, entry: &LdapEntry) -> bool {
        self.in_base(dn) && self.filter.as_ref().is_none_or(|f| f.matches(entry))
    }

    fn in_base(&self, dn: &Option<Dn>) -> bool {
        self.bases.is_empty()
            || dn
                .as_ref()
                .is_some_and(|d| self.bases.iter().any(|b| d.is_within(b)))
    }

    /// Why the class does not take `entry` (`None`: it does), for a preview.
    pub(crate) fn why_not(&self, entry: &LdapEntry) -> Option<String> {
        if !self.in_base(&Dn::parse(&entry.dn).ok()) {
            return Some(format!(
                "the entry is not under its base DNs ({})",
                self.class.include_base_dns.join("; ")
            ));
        }
        match (&self.filter, &self.class.include_filter) {
            (Some(f), Some(text)) if !f.matches(entry) => {
                Some(format!("the entry does not match its filter {text}"))
            }
            _ => None,
        }
    }
}

pub struct PipePlan {
    pub pipe: SyncPipe,
    pub source: LdapSource,
    pub destination: ScimDestination,
    pub classes: Vec<ClassPlan>,
    /// The destination's SCIM service (a [`ScimClient`] with the pipe's retries and rate, in a
    /// [`BulkWriter`] unless the destination's use-bulk is off).
    pub client: Box<dyn Destination>,
    /// Opens the source's changelog (an [`LdapConnector`] to the sync source's servers).
    pub changes: Arc<dyn SourceConnector>,
    /// Decrypts passwords carried by changelog records (step 2), when set.
    pub password_key: Option<ChangelogPasswordKey>,
    /// The classes' endpoint mappings in writing order: each level refers only to earlier
    /// ones and to itself (see `Config::endpoint_order`). Never empty.
    pub levels: Vec<Vec<String>>,
    /// The endpoint mappings a Reference mapping of this pipe may resolve DNs to (asked for
    /// every entry written, so found once).
    referenced: Vec<String>,
    /// The pipe's limit on deletes.
    pub(crate) deletes: DeleteGuard,
    /// The attribute that identifies the source's entries: presumed from the changelog
    /// flavour when built, settled against the source (`entry_ids::settle`) before a run
    /// keys anything by it.
    pub(super) entry_ids: EntryIdAttribute,
}

impl PipePlan {
    /// Builds the plan; `rate_per_second` overrides the pipe's max-ops-per-second.
    pub fn build(
        config: &Config,
        pipe_name: &str,
        cipher: &Cipher,
        rate_per_second: Option<u32>,
    ) -> Result<PipePlan, PlanError> {
        let missing = |what: String| PlanError::Incomplete(what);
        let pipe = config
            .get::<SyncPipe>(pipe_name)
            .ok_or_else(|| PlanError::NoPipe(pipe_name.to_owned()))?
            .clone();
        let source = config
            .get::<LdapSource>(&pipe.source)
            .ok_or_else(|| {
                missing(format!(
                    "LDAP sync source \"{}\" does not exist",
                    pipe.source
                ))
            })?
            .clone();
        let destination = config
            .get::<ScimDestination>(&pipe.destination)
            .ok_or_else(|| {
                missing(format!(
                    "SCIM 2.0 sync destination \"{}\" does not exist",
                    pipe.destination
                ))
            })?
            .clone();
        let server = config
            .get::<ScimServer>(&destination.server)
            .ok_or_else(|| {
                missing(format!(
                    "SCIM 2.0 external server \"{}\" does not exist",
                    destination.server
                ))
            })?;
        let mut classes: Vec<&SyncClass> = config
            .sync_classes
            .iter()
            .filter(|c| c.pipe == pipe.name)
            .collect();
        if classes.is_empty() {
            return Err(missing(format!(
                "sync pipe \"{}\" has no sync classes",
                pipe.name
            )));
        }
        classes.sort_by_key(|c| c.evaluation_order);
        let classes = classes
            .into_iter()
            .map(|c| {
                let mapper = match (&c.endpoint_mapping, c.synchronizes_anything()) {
                    (Some(name), true) => {
                        let endpoint = config.get::<EndpointMapping>(name).ok_or_else(|| {
                            missing(format!("endpoint mapping \"{name}\" does not exist"))
                        })?;
                        Some(Arc::new(EndpointMapper::new(config, endpoint)))
                    }
                    _ => None,
                };
                Ok(ClassPlan {
                    bases: c
                        .include_base_dns
                        .iter()
                        .filter_map(|b| Dn::parse(b).ok())
                        .collect(),
                    filter: c
                        .filter()
                        .map_err(|e| missing(format!("sync class \"{}\": {e}", c.name)))?,
                    class: c.clone(),
                    mapper,
                })
            })
            .collect::<Result<Vec<_>, PlanError>>()?;
        let mut client = ScimClient::new(server, cipher)?
            .with_retry(RetryPolicy::with_attempts(pipe.retry_attempts));
        if let Some(rate) = rate_per_second.or(pipe.max_ops_per_second) {
            client = client.with_rate_limit(Arc::new(RateLimiter::per_second(rate)));
        }
        let password_key = match &config.global.changelog_password_decryption_key {
            Some(key) => Some(ChangelogPasswordKey::new(
                &key.expose(cipher).map_err(PlanError::PasswordKey)?,
            )),
            None => None,
        };
        let client: Box<dyn Destination> = if destination.use_bulk {
            let requests_at_once = pipe.worker_count.clamp(*WORKERS.start(), *WORKERS.end());
            Box::new(BulkWriter::new(client, requests_at_once as usize))
        } else {
            Box::new(client)
        };
        let mut endpoints: Vec<String> = Vec::new();
        for m in classes.iter().filter_map(|c| c.mapper.as_ref()) {
            if !endpoints.contains(&m.endpoint.name) {
                endpoints.push(m.endpoint.name.clone());
            }
        }
        let mut levels = config.endpoint_order(&endpoints);
        if levels.is_empty() {
            levels.push(Vec::new());
        }
        let referenced = endpoints
            .iter()
            .filter(|e| {
                classes
                    .iter()
                    .filter_map(|c| c.mapper.as_ref())
                    .any(|m| !m.reference_paths(e).is_empty())
            })
            .cloned()
            .collect();
        let changes = Arc::new(LdapConnector {
            source: source.clone(),
            cipher: cipher.clone(),
        });
        Ok(PipePlan {
            deletes: DeleteGuard::new(&pipe),
            entry_ids: EntryIdAttribute::presumed(source.changelog),
            pipe,
            changes,
            source,
            destination,
            classes,
            client,
            password_key,
            levels,
            referenced,
        })
    }

    /// The same plan sending to `destination` instead (an in-memory service in unit tests,
    /// a zero-cost one in benchmarks).
    pub fn with_destination(mut self, destination: impl Destination + 'static) -> PipePlan {
        self.client = Box::new(destination);
        self
    }

    /// The same plan reading changes from `source` instead (an in-memory directory in unit
    /// tests).
    pub fn with_source(mut self, source: impl SourceConnector + 'static) -> PipePlan {
        self.changes = Arc::new(source);
        self
    }

    /// The same plan identifying entries by `attribute` (an in-memory source in unit tests;
    /// real sources are settled against what they hold).
    pub fn with_entry_ids(mut self, attribute: EntryIdAttribute) -> PipePlan {
        self.entry_ids = attribute;
        self
    }

    /// The entry's stable id: what its correlation with its resource is kept under.
    pub fn entry_id(&self, entry: &LdapEntry) -> Option<String> {
        self.entry_ids.value(entry)
    }

    /// The attribute that identifies the source's entries.
    pub fn entry_id_attribute(&self) -> EntryIdAttribute {
        self.entry_ids
    }

    /// The first class whose base DNs hold `dn`, ignoring filters: for deleted entries, whose
    /// attributes are gone.
    pub fn classify_by_dn(&self, dn: &str) -> Option<&ClassPlan> {
        let dn = Dn::parse(dn).ok();
        self.classes.iter().find(|c| {
            c.bases.is_empty()
                || dn
                    .as_ref()
                    .is_some_and(|d| c.bases.iter().any(|b| d.is_within(b)))
        })
    }

    /// Whether a Reference mapping of this pipe may resolve DNs to `endpoint_mapping`.
    pub fn is_referenced(&self, endpoint_mapping: &str) -> bool {
        self.referenced.iter().any(|e| e == endpoint_mapping)
    }

    /// Whether an entry of `level` may reference another entry of the same level (nested
    /// groups, managers): their correlations must then be in the store as soon as known.
    pub fn references_within(&self, level: &[String]) -> bool {
        self.classes
            .iter()
            .filter_map(|c| c.mapper.as_ref())
            .filter(|m| level.contains(&m.endpoint.name))
            .any(|m| {
                level
                    .iter()
                    .any(|target| !m.reference_paths(target).is_empty())
            })
    }

    /// The class called `name`.
    pub fn class_named(&self, name: &str) -> Option<&ClassPlan> {
        self.classes.iter().find(|c| c.class.name == name)
    }

    /// The first class, in evaluation order, whose base DNs and filter match the entry.
    pub fn classify(&self, entry: &LdapEntry) -> Option<&ClassPlan> {
        self.class_index(entry).map(|i| &self.classes[i])
    }

    /// [`Self::classify`] as a position in `classes` (kept by tasks that outlive a borrow).
    pub(crate) fn class_index(&self, entry: &LdapEntry) -> Option<usize> {
        let dn = Dn::parse(&entry.dn).ok();
        self.classes.iter().position(|c| c.matches(&dn, entry))
    }

    /// LDAP attributes to read: those the mappings and the class filters use, objectClass,
    /// and the attributes an entry may be identified by (operational, so asked for by name).
    pub fn ldap_attributes(&self) -> Vec<String> {
        let mut attrs = vec!["objectclass".to_owned()];
        attrs.extend(
            crate::entry_id::ID_ATTRIBUTES
                .iter()
                .map(|a| a.to_ascii_lowercase()),
        );
        for c in &self.classes {
            let from_filter = c
                .filter
                .as_ref()
                .map(Filter::attributes)
                .unwrap_or_default();
            let from_mapper = c
                .mapper
                .as_ref()
                .map(|m| m.ldap_attributes())
                .unwrap_or_default();
            for a in from_filter.into_iter().chain(from_mapper) {
                if !attrs.contains(&a) {
                    attrs.push(a);
                }
            }
        }
        attrs
    }
}
