//! Listed correlation for resync: instead of a search per entry, each endpoint is listed once
//! (page by page, only the attributes resync compares) into a compact index — search key →
//! id and a digest of the compared values, about 100 bytes a resource — so an entry is known
//! to be new, in sync or changed without a request of its own. What the index cannot tell
//! (a key that matches only case-folded, or more than one resource) is left to the service's
//! search. A destination that cannot list, or stops listing before its own total, is not
//! listed: its entries are found by search as before.

use super::plan::PipePlan;
use crate::mapping::EndpointMapper;
use crate::mapping::correlation::{
    SearchKey, compared_digest, listed_attributes, resource_key, unlistable,
};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Resources asked for per page.
const PAGE: u64 = 1000;

/// What the index says of an entry's key.
pub(crate) enum Correlation {
    /// No resource has it: create.
    New,
    /// One resource has it; `digest` of its compared values as listed (`None` for one this
    /// run created).
    Listed { id: String, digest: Option<u64> },
    /// Ask the service (a case-folded match only, or several resources).
    Search,
}

/// One endpoint's index.
pub(crate) struct Listing {
    index: Mutex<Index>,
}

#[derive(Default)]
struct Index {
    exact: HashMap<u128, (Box<str>, Option<u64>)>,
    ambiguous: HashSet<u128>,
    folded: HashSet<u64>,
}

impl Index {
    fn insert(&mut self, key: SearchKey, id: &str, digest: Option<u64>) {
        if self.ambiguous.contains(&key.exact) {
            return;
        }
        if self.exact.insert(key.exact, (id.into(), digest)).is_some() {
            self.exact.remove(&key.exact);
            self.ambiguous.insert(key.exact);
        }
        self.folded.insert(key.folded);
    }
}

impl Listing {
    /// Lists `mapper`'s endpoint; why not, when it cannot be listed.
    pub(crate) async fn list(plan: &PipePlan, mapper: &EndpointMapper) -> Result<Listing, String> {
        if let Some(why) = unlistable(mapper) {
            return Err(why);
        }
        let endpoint = mapper.endpoint.endpoint_path.as_str();
        let attributes = listed_attributes(mapper);
        let mut index = Index::default();
        let mut seen: HashSet<u64> = HashSet::new();
        let mut start = 1;
        loop {
            let page = plan
                .client
                .list_page(endpoint, &attributes, start, PAGE)
                .await
                .map_err(|e| format!("listing failed: {e}"))?;
            let total = page.total.ok_or("the listing does not say totalResults")?;
            if page.resources.is_empty() {
                if start - 1 < total {
                    return Err(format!(
                        "the destination stopped listing after {} of its {total} resources",
                        start - 1
                    ));
                }
                break;
            }
            for resource in &page.resources {
                let Some(id) = resource.get("id").and_then(|v| v.as_str()) else {
                    return Err("a listed resource has no id".into());
                };
                if !seen.insert(hash_of(id)) {
                    return Err(format!(
                        "the listing repeated resource {id} (it does not page by startIndex)"
                    ));
                }
                if let Some(key) = resource_key(mapper, resource) {
                    index.insert(key, id, Some(compared_digest(mapper, resource)));
                }
            }
            start += page.resources.len() as u64;
            // `start` is one past the last resource listed.
            if start > total {
                break;
            }
        }
        Ok(Listing {
            index: Mutex::new(index),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.index.lock().expect("listing index").exact.len()
    }

    pub(crate) fn correlate(&self, key: SearchKey) -> Correlation {
        let index = self.index.lock().expect("listing index");
        if let Some((id, digest)) = index.exact.get(&key.exact) {
            return Correlation::Listed {
                id: id.to_string(),
                digest: *digest,
            };
        }
        if index.ambiguous.contains(&key.exact) || index.folded.contains(&key.folded) {
            return Correlation::Search;
        }
        Correlation::New
    }

    /// A resource this run created: an entry with the same key finds it.
    pub(crate) fn created(&self, key: SearchKey, id: &str) {
        self.index
            .lock()
            .expect("listing index")
            .insert(key, id, None);
    }
}

fn hash_of(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The listings of one resync, by endpoint mapping name, and how entries were correlated.
#[derive(Default)]
pub(crate) struct Listings {
    by_endpoint: RwLock<HashMap<String, Arc<Listing>>>,
    pub by_listing: AtomicU64,
    pub by_search: AtomicU64,
}

impl Listings {
    pub(crate) fn get(&self, endpoint_mapping: &str) -> Option<Arc<Listing>> {
        self.by_endpoint
            .read()
            .expect("listings")
            .get(endpoint_mapping)
            .cloned()
    }

    /// Lists each endpoint mapping of `level` that is not listed yet; says in the log which
    /// ones are found by search instead, and why.
    pub(crate) async fn list_level(&self, plan: &PipePlan, level: &[String]) {
        for name in level {
            if self.get(name).is_some() {
                continue;
            }
            let Some(mapper) = plan
                .classes
                .iter()
                .filter_map(|c| c.mapper.as_ref())
                .find(|m| &m.endpoint.name == name)
            else {
                continue;
            };
            match Listing::list(plan, mapper).await {
                Ok(listing) => {
                    tracing::info!(
                        "resync of \"{}\": listed {} resources of {}; entries are correlated from that list",
                        plan.pipe.name,
                        listing.len(),
                        mapper.endpoint.endpoint_path
                    );
                    self.by_endpoint
                        .write()
                        .expect("listings")
                        .insert(name.clone(), Arc::new(listing));
                }
                Err(why) => tracing::info!(
                    "resync of \"{}\": {} is not listed ({why}); each entry is found by search",
                    plan.pipe.name,
                    mapper.endpoint.endpoint_path
                ),
            }
        }
    }

    pub(crate) fn count(&self, listed: bool) {
        let counter = if listed {
            &self.by_listing
        } else {
            &self.by_search
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
