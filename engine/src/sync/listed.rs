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
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
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

/// The index's keys are hashes already: they are used as they are, not hashed again.
type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<AsHashed>>;
type KeySet<K> = HashSet<K, BuildHasherDefault<AsHashed>>;

#[derive(Default)]
struct Index {
    exact: KeyMap<(u64, u64), Slot>,
    ambiguous: KeySet<(u64, u64)>,
    folded: KeySet<u64>,
    ids: Ids,
}

/// A resource of the index: where its id is kept, and the digest of its compared values.
#[derive(Clone, Copy)]
struct Slot {
    id: IdAt,
    digest: Option<u64>,
}

/// The halves of a 128-bit key, which align to 8 bytes where a u128 takes 16.
fn halves(key: u128) -> (u64, u64) {
    ((key >> 64) as u64, key as u64)
}

impl Index {
    /// Room for `resources` without growing: growing a table holds the old one and the new,
    /// twice the memory, at the moment the index is largest.
    fn with_capacity(resources: usize) -> Index {
        Index {
            exact: KeyMap::with_capacity_and_hasher(resources, Default::default()),
            folded: KeySet::with_capacity_and_hasher(resources, Default::default()),
            ..Default::default()
        }
    }

    fn insert(&mut self, key: SearchKey, id: &str, digest: Option<u64>) {
        let exact = halves(key.exact);
        self.folded.insert(key.folded);
        if self.ambiguous.contains(&exact) {
            return;
        }
        let Some(id) = self.ids.push(id) else {
            // An id too long to keep: the service's search finds the entry.
            self.ambiguous.insert(exact);
            return;
        };
        if self.exact.insert(exact, Slot { id, digest }).is_some() {
            self.exact.remove(&exact);
            self.ambiguous.insert(exact);
        }
    }
}

/// Resource ids end to end in chunks: no id costs an allocation of its own, and growing
/// never copies what is kept.
#[derive(Default)]
struct Ids {
    chunks: Vec<String>,
}

/// Where an id is kept: its chunk and offset in one number (12 and 20 bits), and its length.
#[derive(Clone, Copy)]
struct IdAt {
    at: u32,
    len: u32,
}

const CHUNK_BITS: u32 = 20;
const CHUNK: usize = 1 << CHUNK_BITS;
const MOST_CHUNKS: usize = 1 << (32 - CHUNK_BITS);

impl Ids {
    /// Keeps `id`; `None` when it is longer than a chunk or every chunk is full.
    fn push(&mut self, id: &str) -> Option<IdAt> {
        if id.len() > CHUNK {
            return None;
        }
        if self
            .chunks
            .last()
            .is_none_or(|c| c.len() + id.len() > CHUNK)
        {
            if self.chunks.len() == MOST_CHUNKS {
                return None;
            }
            self.chunks.push(String::with_capacity(CHUNK));
        }
        let last = self.chunks.len() - 1;
        let chunk = &mut self.chunks[last];
        let at = (last << CHUNK_BITS | chunk.len()) as u32;
        chunk.push_str(id);
        Some(IdAt {
            at,
            len: id.len() as u32,
        })
    }

    fn get(&self, id: IdAt) -> &str {
        let chunk = &self.chunks[(id.at >> CHUNK_BITS) as usize];
        let start = (id.at as usize) & (CHUNK - 1);
        &chunk[start..start + id.len as usize]
    }
}

/// A hasher for keys that are uniform hashes already: it keeps their bits.
#[derive(Default)]
struct AsHashed(u64);

impl Hasher for AsHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(32) ^ n;
    }
}

impl Listing {
    /// Lists `mapper`'s endpoint; why not, when it cannot be listed.
    /// `entries`: how many entries the run reads, the resources it may create.
    pub(crate) async fn list(
        plan: &PipePlan,
        mapper: &EndpointMapper,
        entries: u64,
    ) -> Result<Listing, String> {
        if let Some(why) = unlistable(mapper) {
            return Err(why);
        }
        let endpoint = mapper.endpoint.endpoint_path.as_str();
        let attributes = listed_attributes(mapper);
        let mut index: Option<Index> = None;
        let mut seen: HashSet<u64> = HashSet::new();
        let mut start = 1;
        loop {
            let page = plan
                .client
                .list_page(endpoint, &attributes, start, PAGE)
                .await
                .map_err(|e| format!("listing failed: {e}"))?;
            let total = page.total.ok_or("the listing does not say totalResults")?;
            let index = index.get_or_insert_with(|| {
                // The resources after the run: those listed, most of them the entries' own,
                // or the entries, most of them created. Room for both would leave half the
                // table empty, and a table fills all of its pages however empty it is. A
                // capacity the machine cannot hold is not asked for: the index grows instead.
                let room = usize::try_from(total.max(entries)).unwrap_or(usize::MAX);
                Index::with_capacity(room.min(1 << 26))
            });
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
            index: Mutex::new(index.unwrap_or_default()),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.index.lock().expect("listing index").exact.len()
    }

    pub(crate) fn correlate(&self, key: SearchKey) -> Correlation {
        let index = self.index.lock().expect("listing index");
        let exact = halves(key.exact);
        if let Some(slot) = index.exact.get(&exact) {
            return Correlation::Listed {
                id: index.ids.get(slot.id).to_owned(),
                digest: slot.digest,
            };
        }
        if index.ambiguous.contains(&exact) || index.folded.contains(&key.folded) {
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
    /// `entries`: how many entries the run reads, the resources it may create.
    pub(crate) async fn list_level(&self, plan: &PipePlan, level: &[String], entries: u64) {
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
            match Listing::list(plan, mapper, entries).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u128) -> SearchKey {
        SearchKey {
            exact: n << 64 | n,
            folded: n as u64,
        }
    }

    fn listing(index: Index) -> Listing {
        Listing {
            index: Mutex::new(index),
        }
    }

    #[test]
    fn ids_are_kept_across_chunks_and_read_back() {
        let mut ids = Ids::default();
        let long = "x".repeat(CHUNK - 3);
        let first = ids.push(&long).unwrap();
        // Does not fit in what is left of the first chunk: starts the second.
        let second = ids.push("2c2a").unwrap();
        let third = ids.push("é-3").unwrap();
        assert_eq!(ids.get(first), long);
        assert_eq!(ids.get(second), "2c2a");
        assert_eq!(ids.get(third), "é-3");
        assert_eq!(ids.chunks.len(), 2);
        assert!(ids.push(&"y".repeat(CHUNK + 1)).is_none());
    }

    #[test]
    fn a_key_is_new_listed_or_left_to_the_service() {
        let mut index = Index::with_capacity(4);
        index.insert(key(1), "one", Some(11));
        index.insert(key(2), "two", Some(22));
        index.insert(key(2), "also-two", Some(23));
        index.insert(key(3), &"z".repeat(CHUNK + 1), Some(33));
        let listing = listing(index);
        assert!(matches!(
            listing.correlate(key(1)),
            Correlation::Listed { id, digest: Some(11) } if id == "one"
        ));
        // Two resources with one key, an id too long to keep: the service's search decides.
        assert!(matches!(listing.correlate(key(2)), Correlation::Search));
        assert!(matches!(listing.correlate(key(3)), Correlation::Search));
        assert!(matches!(listing.correlate(key(4)), Correlation::New));
        // A key that matches another only case-folded.
        let folded_only = SearchKey {
            exact: 99,
            folded: 1,
        };
        assert!(matches!(
            listing.correlate(folded_only),
            Correlation::Search
        ));
        listing.created(key(4), "four");
        assert!(matches!(
            listing.correlate(key(4)),
            Correlation::Listed { id, digest: None } if id == "four"
        ));
        assert_eq!(listing.len(), 2);
    }
}
