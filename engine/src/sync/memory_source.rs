//! An in-memory LDAP source behind [`SourceConnector`], for unit tests of realtime sync and
//! its supervisor: entries by DN and a draft-good changelog that every write appends to,
//! recording each entry's entryUUID (its entries are identified by it). A test can hold the
//! reads of one entry (a slow entry) and take the whole source down.

use crate::changelog::{ChangeBatch, ChangeKind, ChangeRecord, ChangelogError};
use crate::entry_id::{EntryIdAttribute, ID_ATTRIBUTES};
use crate::ldap::LdapError;
use crate::mapping::LdapEntry;
use crate::source::{
    Backlog, ChangeSource, EntryIdSource, EntryReader, SourceAnswer, SourceConnector,
};
use crate::startpoint::ChangelogCursor;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Clones share one directory.
#[derive(Clone)]
pub(crate) struct MemoryDirectory {
    state: Arc<Mutex<State>>,
    /// Bumped whenever held entries are released, to wake the reads waiting on them.
    released: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    /// Lower-cased DN → entry.
    entries: BTreeMap<String, LdapEntry>,
    changelog: Vec<ChangeRecord>,
    /// Lower-cased DNs whose reads wait until released.
    held: BTreeSet<String>,
    down: bool,
    /// Every entry read, by DN as asked.
    reads: Vec<String>,
}

impl Default for MemoryDirectory {
    fn default() -> Self {
        MemoryDirectory {
            state: Arc::default(),
            released: watch::Sender::new(0),
        }
    }
}

fn number(cursor: &ChangelogCursor) -> u64 {
    match cursor {
        ChangelogCursor::DraftGood { last_change_number } => *last_change_number,
        ChangelogCursor::Accesslog { .. } => panic!("the memory directory logs draft-good changes"),
    }
}

impl MemoryDirectory {
    fn log(&self, state: &mut State, kind: ChangeKind, dn: &str) {
        let entry_id = state
            .entries
            .get(&dn.to_ascii_lowercase())
            .and_then(|e| EntryIdAttribute::EntryUuid.value(e));
        let n = state.changelog.len() as u64 + 1;
        state.changelog.push(ChangeRecord {
            cursor: ChangelogCursor::DraftGood {
                last_change_number: n,
            },
            kind,
            logged_at: Some(chrono::Utc::now()),
            dn: dn.to_owned(),
            entry_id,
            modifications: Vec::new(),
            raw: serde_json::json!({ "changeNumber": n, "targetDn": dn }),
            passwords: Default::default(),
        });
    }

    /// Adds (or replaces) an entry, logging an add.
    pub(crate) fn add(&self, entry: LdapEntry) {
        let mut state = self.state.lock().unwrap();
        let dn = entry.dn.clone();
        state.entries.insert(dn.to_ascii_lowercase(), entry);
        self.log(&mut state, ChangeKind::Add, &dn);
    }

    /// Replaces one attribute's values of an existing entry, logging a modify.
    pub(crate) fn modify(&self, dn: &str, attribute: &str, values: &[&str]) {
        let mut state = self.state.lock().unwrap();
        let entry = state
            .entries
            .get_mut(&dn.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("no entry {dn}"));
        entry.attributes.insert(
            attribute.to_ascii_lowercase(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self.log(&mut state, ChangeKind::Modify, dn);
    }

    /// Moves an entry to `new_dn` (its attributes unchanged), logging a modrdn with the
    /// entry's id.
    pub(crate) fn rename(&self, dn: &str, new_dn: &str) {
        let mut state = self.state.lock().unwrap();
        let new_dn = new_dn.to_owned();
        let kind = ChangeKind::ModDn {
            new_dn: new_dn.clone(),
        };
        self.log(&mut state, kind, dn);
        let mut entry = state
            .entries
            .remove(&dn.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("no entry {dn}"));
        entry.dn = new_dn.clone();
        state.entries.insert(new_dn.to_ascii_lowercase(), entry);
    }

    /// Deletes an entry, logging a delete (with the entry's id, as changelogs give it).
    pub(crate) fn delete(&self, dn: &str) {
        let mut state = self.state.lock().unwrap();
        self.log(&mut state, ChangeKind::Delete, dn);
        state.entries.remove(&dn.to_ascii_lowercase());
    }

    /// The position after the last change logged.
    pub(crate) fn last_change(&self) -> ChangelogCursor {
        ChangelogCursor::DraftGood {
            last_change_number: self.state.lock().unwrap().changelog.len() as u64,
        }
    }

    /// Reads of `dn` wait until [`MemoryDirectory::release`].
    pub(crate) fn hold(&self, dn: &str) {
        self.state
            .lock()
            .unwrap()
            .held
            .insert(dn.to_ascii_lowercase());
    }

    pub(crate) fn release(&self, dn: &str) {
        self.state
            .lock()
            .unwrap()
            .held
            .remove(&dn.to_ascii_lowercase());
        self.released.send_modify(|n| *n += 1);
    }

    /// While down, connecting and every read fail as a lost connection does.
    pub(crate) fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    /// How many times `dn` was read.
    pub(crate) fn reads_of(&self, dn: &str) -> usize {
        let state = self.state.lock().unwrap();
        state
            .reads
            .iter()
            .filter(|r| r.eq_ignore_ascii_case(dn))
            .count()
    }

    fn unreachable(&self) -> Option<LdapError> {
        self.state
            .lock()
            .unwrap()
            .down
            .then(|| LdapError::op("reading the memory directory", "connection lost"))
    }
}

impl EntryReader for MemoryDirectory {
    fn fetch_entry<'a>(
        &'a self,
        dn: &'a str,
        _attrs: &'a [String],
    ) -> SourceAnswer<'a, Option<LdapEntry>> {
        Box::pin(async move {
            let key = dn.to_ascii_lowercase();
            self.state.lock().unwrap().reads.push(dn.to_owned());
            let mut released = self.released.subscribe();
            while self.state.lock().unwrap().held.contains(&key) {
                let _ = released.changed().await;
            }
            if let Some(e) = self.unreachable() {
                return Err(e);
            }
            Ok(self.state.lock().unwrap().entries.get(&key).cloned())
        })
    }
}

impl EntryIdSource for MemoryDirectory {
    fn identify(&self) -> SourceAnswer<'_, EntryIdAttribute> {
        Box::pin(async move {
            match self.unreachable() {
                Some(e) => Err(e),
                None => Ok(EntryIdAttribute::EntryUuid),
            }
        })
    }

    fn entries_with_ids<'a>(&'a self, ids: &'a [String]) -> SourceAnswer<'a, Vec<LdapEntry>> {
        Box::pin(async move {
            if let Some(e) = self.unreachable() {
                return Err(e);
            }
            let state = self.state.lock().unwrap();
            let named = |e: &&LdapEntry| {
                ID_ATTRIBUTES
                    .iter()
                    .any(|a| e.get(a).iter().any(|v| ids.contains(v)))
            };
            Ok(state.entries.values().filter(named).cloned().collect())
        })
    }
}

impl ChangeSource for MemoryDirectory {
    fn read_changes<'a>(
        &'a mut self,
        from: &'a ChangelogCursor,
        max: u32,
    ) -> SourceAnswer<'a, ChangeBatch, ChangelogError> {
        Box::pin(async move {
            if let Some(e) = self.unreachable() {
                return Err(e.into());
            }
            let after = number(from) as usize;
            let state = self.state.lock().unwrap();
            let records: Vec<ChangeRecord> = state
                .changelog
                .iter()
                .skip(after)
                .take(max as usize)
                .cloned()
                .collect();
            let end = records.last().map(|r| r.cursor.clone());
            Ok(ChangeBatch { records, end })
        })
    }

    fn backlog<'a>(
        &'a mut self,
        from: &'a ChangelogCursor,
    ) -> Pin<Box<dyn Future<Output = Option<Backlog>> + Send + 'a>> {
        let total = self.state.lock().unwrap().changelog.len() as u64;
        Box::pin(async move {
            Some(Backlog {
                changes: total.saturating_sub(number(from)),
                at_least: false,
            })
        })
    }

    fn entries(&self) -> Arc<dyn EntryReader> {
        Arc::new(self.clone())
    }

    fn entry_ids(&self) -> Arc<dyn EntryIdSource> {
        Arc::new(self.clone())
    }

    fn pushed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::pending())
    }

    fn pushes(&self) -> bool {
        false
    }
}

impl SourceConnector for MemoryDirectory {
    fn connect(&self) -> SourceAnswer<'_, Box<dyn ChangeSource>> {
        Box::pin(async move {
            if let Some(e) = self.unreachable() {
                return Err(e);
            }
            Ok(Box::new(self.clone()) as Box<dyn ChangeSource>)
        })
    }
}
