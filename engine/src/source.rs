//! What the sync core asks of its LDAP source, as traits: [`EntryReader`] reads an entry as it
//! is now (every change is applied from the entry as it is now, and references read their
//! targets); [`ChangeSource`] reads the changelog after a cursor; [`SourceConnector`] opens
//! one (realtime opens another after losing its source); [`EntryIdSource`] tells how its
//! entries are identified. The real ones are LDAP connections; the sync core's unit tests put
//! an in-memory directory behind the same seam.

use crate::changelog::{ChangeBatch, ChangePush, ChangelogError, accesslog_backlog, read_changes};
use crate::config::LdapSource;
use crate::crypto::Cipher;
use crate::entry_id::EntryIdAttribute;
use crate::ldap::{LdapConnection, LdapError, RootDse, connect, id_search_bases};
use crate::mapping::LdapEntry;
use crate::startpoint::ChangelogCursor;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An answer the source gives, later (dyn-compatible async).
pub type SourceAnswer<'a, T, E = LdapError> =
    Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'a>>;

/// Reads entries of the source.
pub trait EntryReader: Send + Sync {
    /// The entry at `dn` with `attrs`, or `None` if it does not exist (or is not visible).
    fn fetch_entry<'a>(
        &'a self,
        dn: &'a str,
        attrs: &'a [String],
    ) -> SourceAnswer<'a, Option<LdapEntry>>;
}

/// What settling how a pipe keys its entries asks of the source (see `sync::entry_ids`).
pub trait EntryIdSource: EntryReader {
    /// The attribute that identifies the source's entries, judged from what it holds.
    fn identify(&self) -> SourceAnswer<'_, EntryIdAttribute>;
    /// The entries having one of `ids` as entryUUID or nsUniqueId, wherever they are now
    /// (out of scope included), read with both.
    fn entries_with_ids<'a>(&'a self, ids: &'a [String]) -> SourceAnswer<'a, Vec<LdapEntry>>;
}

/// One open connection to the source's changelog.
pub trait ChangeSource: Send {
    /// At most `max` changes after `from`, oldest first.
    fn read_changes<'a>(
        &'a mut self,
        from: &'a ChangelogCursor,
        max: u32,
    ) -> SourceAnswer<'a, ChangeBatch, ChangelogError>;
    /// How many changes the source holds beyond `from`, when it can say.
    fn backlog<'a>(
        &'a mut self,
        from: &'a ChangelogCursor,
    ) -> Pin<Box<dyn Future<Output = Option<Backlog>> + Send + 'a>>;
    /// Reads entries through the same connection (shared by parallel workers).
    fn entries(&self) -> Arc<dyn EntryReader>;
    /// Tells how entries are identified, through the same connection.
    fn entry_ids(&self) -> Arc<dyn EntryIdSource>;
    /// Resolves when the source pushes a new change; never while it pushes none.
    fn pushed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
    /// Whether the source pushes its changes (else they are polled).
    fn pushes(&self) -> bool;
}

/// Changes waiting in the changelog after the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub changes: u64,
    /// There are at least `changes` (counting stopped there).
    pub at_least: bool,
}

/// Opens connections to a source's changelog.
pub trait SourceConnector: Send + Sync {
    fn connect(&self) -> SourceAnswer<'_, Box<dyn ChangeSource>>;
}

impl EntryReader for LdapConnection {
    fn fetch_entry<'a>(
        &'a self,
        dn: &'a str,
        attrs: &'a [String],
    ) -> SourceAnswer<'a, Option<LdapEntry>> {
        // Clones share the connection; the clone is only for the `&mut` the search takes.
        let mut conn = self.clone();
        // Named in full: `conn.fetch_entry` would pick this trait method (`&self` comes
        // before the inherent `&mut self` one) and call itself.
        Box::pin(async move { LdapConnection::fetch_entry(&mut conn, dn, attrs).await })
    }
}

/// An LDAP connection to a sync source, as an [`EntryIdSource`].
pub struct LdapEntryIds {
    conn: LdapConnection,
    source: LdapSource,
    /// Where entries are searched for by id: read from the root DSE once, for all the pages
    /// of a re-keying.
    bases: tokio::sync::OnceCell<Vec<String>>,
}

impl LdapEntryIds {
    pub fn new(conn: LdapConnection, source: LdapSource) -> LdapEntryIds {
        LdapEntryIds {
            conn,
            source,
            bases: Default::default(),
        }
    }
}

impl EntryReader for LdapEntryIds {
    fn fetch_entry<'a>(
        &'a self,
        dn: &'a str,
        attrs: &'a [String],
    ) -> SourceAnswer<'a, Option<LdapEntry>> {
        EntryReader::fetch_entry(&self.conn, dn, attrs)
    }
}

impl EntryIdSource for LdapEntryIds {
    fn identify(&self) -> SourceAnswer<'_, EntryIdAttribute> {
        let mut conn = self.conn.clone();
        Box::pin(async move { conn.identify_entries(&self.source).await })
    }

    fn entries_with_ids<'a>(&'a self, ids: &'a [String]) -> SourceAnswer<'a, Vec<LdapEntry>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let bases = self
                .bases
                .get_or_try_init(|| {
                    let mut conn = conn.clone();
                    async move { id_search_bases(&mut conn, &self.source).await }
                })
                .await?;
            conn.entries_with_ids(bases, ids, self.source.batch_size)
                .await
        })
    }
}

/// The real source: an LDAP sync source's servers, in failover order.
pub struct LdapConnector {
    pub source: LdapSource,
    pub cipher: Cipher,
}

impl SourceConnector for LdapConnector {
    fn connect(&self) -> SourceAnswer<'_, Box<dyn ChangeSource>> {
        Box::pin(async move {
            let conn = connect(&self.source, &self.cipher).await?;
            Ok(Box::new(LdapChangelog {
                conn,
                source: self.source.clone(),
                push: None,
                push_asked: None,
            }) as Box<dyn ChangeSource>)
        })
    }
}

struct LdapChangelog {
    conn: LdapConnection,
    source: LdapSource,
    push: Option<ChangePush>,
    /// When a push was last asked for (a source that refuses is asked again now and then).
    push_asked: Option<Instant>,
}

/// How often a source that pushes nothing is asked again.
const ASK_PUSH_AGAIN: Duration = Duration::from_secs(300);

impl ChangeSource for LdapChangelog {
    fn read_changes<'a>(
        &'a mut self,
        from: &'a ChangelogCursor,
        max: u32,
    ) -> SourceAnswer<'a, ChangeBatch, ChangelogError> {
        // Asked before reading, so that a change logged meanwhile still wakes the reader.
        let ask = self.source.push_changes
            && self.push.as_ref().is_none_or(|p| !p.is_live())
            && self
                .push_asked
                .is_none_or(|at| at.elapsed() > ASK_PUSH_AGAIN);
        if ask {
            self.push = Some(ChangePush::start(&self.conn, &self.source, from));
            self.push_asked = Some(Instant::now());
        }
        Box::pin(read_changes(&mut self.conn, &self.source, from, max))
    }

    fn backlog<'a>(
        &'a mut self,
        from: &'a ChangelogCursor,
    ) -> Pin<Box<dyn Future<Output = Option<Backlog>> + Send + 'a>> {
        Box::pin(async move {
            match from {
                // Draft-good: the last change number the root DSE announces − the cursor's.
                ChangelogCursor::DraftGood { last_change_number } => {
                    let dse = RootDse::read(&mut self.conn).await.ok()?;
                    dse.last_change_number.map(|last| Backlog {
                        changes: last.saturating_sub(*last_change_number),
                        at_least: false,
                    })
                }
                // Accesslog: the records after the cursor, counted.
                ChangelogCursor::Accesslog {
                    req_start,
                    inclusive,
                } => {
                    let (changes, at_least) = accesslog_backlog(
                        &mut self.conn,
                        &self.source,
                        req_start.as_deref(),
                        *inclusive,
                    )
                    .await
                    .ok()?;
                    Some(Backlog { changes, at_least })
                }
            }
        })
    }

    fn entries(&self) -> Arc<dyn EntryReader> {
        Arc::new(self.conn.clone())
    }

    fn entry_ids(&self) -> Arc<dyn EntryIdSource> {
        Arc::new(LdapEntryIds::new(self.conn.clone(), self.source.clone()))
    }

    fn pushed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        match &self.push {
            Some(push) if push.is_live() => Box::pin(push.pushed()),
            _ => Box::pin(std::future::pending()),
        }
    }

    fn pushes(&self) -> bool {
        self.push.as_ref().is_some_and(ChangePush::is_live)
    }
}
