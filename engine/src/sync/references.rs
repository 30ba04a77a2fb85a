//! Resolving the DNs an entry's Reference mappings name into the SCIM ids of the resources
//! those entries are synchronised to, before the entry is mapped.
//!
//! Each DN is looked up, cheapest first:
//! 1. the correlations resync and realtime record, by normalised DN (one query per 200 DNs);
//! 2. otherwise the referenced entry is read from the source and classified: no class (or one
//!    whose endpoint no Reference mapping accepts) means out of scope; a correlation by its
//!    stable id finds it after a rename; else its endpoint is searched with its search
//!    mappings, like any entry. Found: resolved, and the correlation recorded. Not found:
//!    pending — the target is not at the destination yet.

use super::failure::{Fail, Failure};
use super::find::{Found, find_by_search};
use super::plan::PipePlan;
use crate::config::MappingSyntax;
use crate::ldap::LdapError;
use crate::mapping::references::{
    ReferenceTarget, ReferencedResource, ResolvedReferences, resource_type_of,
};
use crate::mapping::{EndpointMapper, LdapEntry};
use crate::rejection::FailedStep;
use crate::source::EntryReader;
use crate::store::{Correlation, Store, StoreError};
use serde_json::Value;

/// Why references could not be resolved (the entry is then not written).
pub(crate) enum ResolveError {
    /// The destination failed or refused a search (kept as the entry's rejection).
    Failed(Box<Failure>),
    /// The source could not be read.
    Source(LdapError),
    Store(StoreError),
}

impl Fail<'_> {
    /// References could not be resolved; the entry is not written.
    pub(crate) fn unresolved(&self, e: ResolveError) -> Failure {
        match e {
            ResolveError::Failed(f) => *f,
            ResolveError::Source(e) => {
                self.source_down(FailedStep::Read, format!("reading a referenced entry: {e}"))
            }
            ResolveError::Store(e) => self.rejected(
                FailedStep::Read,
                format!("looking up referenced entries: {e}"),
            ),
        }
    }
}

/// Looks references up for one pipe.
pub(crate) struct Resolver<'a> {
    pub plan: &'a PipePlan,
    pub store: &'a Store,
    /// Reads referenced entries that have no correlation yet.
    pub entries: &'a dyn EntryReader,
    /// The attributes read from the source for an entry (as for every other read).
    pub attrs: &'a [String],
    /// Record nothing (a dry run).
    pub dry_run: bool,
    /// Endpoint mappings whose entries may not be written yet (the resync pass in progress):
    /// a target there without a correlation is pending at once — no search, as the pass
    /// defers the referrer and the next round finds the target by its correlation.
    pub unwritten: &'a [String],
}

impl Resolver<'_> {
    /// Answers for every DN `entry`'s Reference mappings name (none without such mappings).
    pub async fn resolve(
        &self,
        mapper: &EndpointMapper,
        entry: &LdapEntry,
        fail: &Fail<'_>,
    ) -> Result<ResolvedReferences, ResolveError> {
        let mut resolved = ResolvedReferences::default();
        if !mapper.has_references() {
            return Ok(resolved);
        }
        let dns = mapper.referenced_dns(entry);
        let keys: Vec<String> = dns.iter().map(|(k, _)| k.clone()).collect();
        let known = self
            .store
            .find_resources_by_dn(&self.plan.pipe.name, &keys)
            .await
            .map_err(ResolveError::Store)?;
        let accepted = accepted_endpoints(mapper);
        for (key, dn) in dns {
            if let Some(target) = known.get(&key).and_then(|c| self.target_of(c)) {
                resolved.insert(key, ReferenceTarget::Resource(target));
                continue;
            }
            let target = self.look_up(&dn, &accepted, fail).await?;
            resolved.insert(key, target);
        }
        Ok(resolved)
    }

    /// The resource a correlation names, if its class still synchronises to that endpoint.
    fn target_of(&self, c: &Correlation) -> Option<ReferencedResource> {
        let mapper = self.plan.class_named(&c.class)?.mapper.as_ref()?;
        (mapper.endpoint.endpoint_path == c.endpoint).then(|| ReferencedResource {
            endpoint_mapping: mapper.endpoint.name.clone(),
            id: c.scim_id.clone(),
            resource_type: resource_type_of(mapper.core_schema()),
            display: c.display.clone(),
        })
    }

    /// Reads, classifies and finds the entry at `dn`.
    async fn look_up(
        &self,
        dn: &str,
        accepted: &[String],
        fail: &Fail<'_>,
    ) -> Result<ReferenceTarget, ResolveError> {
        let Some(target) = self
            .entries
            .fetch_entry(dn, self.attrs)
            .await
            .map_err(ResolveError::Source)?
        else {
            return Ok(ReferenceTarget::OutOfScope);
        };
        let Some(class) = self.plan.classify(&target) else {
            return Ok(ReferenceTarget::OutOfScope);
        };
        let Some(mapper) = class
            .mapper
            .as_ref()
            .filter(|m| accepted.contains(&m.endpoint.name) && class.class.synchronizes_anything())
        else {
            return Ok(ReferenceTarget::OutOfScope);
        };
        let pipe = &self.plan.pipe.name;
        let resource = |id: String| ReferencedResource {
            endpoint_mapping: mapper.endpoint.name.clone(),
            id,
            resource_type: resource_type_of(mapper.core_schema()),
            display: mapper.display_name(&target),
        };
        let target_id = self.plan.entry_id(&target);
        let remember = |id: &str| {
            target_id.clone().map(|entry_id| Correlation {
                entry_id,
                dn: target.dn.clone(),
                endpoint: mapper.endpoint.endpoint_path.clone(),
                scim_id: id.to_owned(),
                class: class.class.name.clone(),
                display: mapper.display_name(&target),
            })
        };
        // Known by its stable id: the entry was renamed or moved since it was synchronised.
        if let Some(entry_id) = &target_id
            && let Some(c) = self
                .store
                .find_resource(pipe, entry_id)
                .await
                .map_err(ResolveError::Store)?
                .filter(|c| c.endpoint == mapper.endpoint.endpoint_path)
        {
            return Ok(ReferenceTarget::Resource(resource(c.scim_id)));
        }
        let pending = || ReferenceTarget::Pending {
            endpoint_mapping: mapper.endpoint.name.clone(),
        };
        if self.unwritten.contains(&mapper.endpoint.name) {
            return Ok(pending());
        }
        let found = find_by_search(self.plan, mapper, &target, fail)
            .await
            .map_err(|f| {
                let f = f.while_doing(&format!("resolving the reference to \"{dn}\""));
                ResolveError::Failed(Box::new(f))
            })?;
        let Found::One(current) = found else {
            return Ok(pending());
        };
        let Some(id) = current.get("id").and_then(Value::as_str) else {
            return Ok(pending());
        };
        if !self.dry_run
            && let Some(c) = remember(id)
        {
            self.store
                .remember_resource(pipe, &c)
                .await
                .map_err(ResolveError::Store)?;
        }
        Ok(ReferenceTarget::Resource(resource(id.to_owned())))
    }
}

/// Endpoint mappings some Reference mapping of `mapper` accepts.
fn accepted_endpoints(mapper: &EndpointMapper) -> Vec<String> {
    let mut out = Vec::new();
    mapper.each_mapping(&mut |m| {
        if let MappingSyntax::Reference {
            endpoint_mappings, ..
        } = &m.syntax
        {
            for e in endpoint_mappings {
                if !out.contains(e) {
                    out.push(e.clone());
                }
            }
        }
    });
    out
}
