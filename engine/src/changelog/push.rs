//! Changes pushed by the source as they are logged, so that realtime sync does not wait for
//! its next poll. Draft-good servers (389 DS, PingDirectory, OpenDJ) answer a persistent
//! search on the changelog with each new record; OpenLDAP answers an RFC 4533
//! refreshAndPersist search on the accesslog database when syncprov runs on it (as for
//! delta-syncrepl). A push only wakes the reader: changes are still read in order from the
//! cursor, so nothing depends on what the push carries, and a server that pushes nothing (or
//! a push that breaks) leaves polling as it was.

use super::reader::accesslog_filter;
use crate::config::{ChangelogFlavor, LdapSource};
use crate::ldap::{LdapConnection, RootDse};
use crate::startpoint::ChangelogCursor;
use ldap3::controls::{MakeCritical, RawControl, RefreshMode, SyncRequest};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// draft-ietf-ldapext-psearch: Persistent Search.
const PERSISTENT_SEARCH_OID: &str = "2.16.840.1.113730.3.4.3";
/// Its value: SEQUENCE { changeTypes INTEGER 1 (add), changesOnly TRUE, returnECs FALSE }.
/// A changelog only ever gains records, so adds are all there is to hear.
const PERSISTENT_SEARCH_ADDS_ONLY: [u8; 11] = [
    0x30, 0x09, 0x02, 0x01, 0x01, 0x01, 0x01, 0xFF, 0x01, 0x01, 0x00,
];

/// A running push: its task ends with it.
pub struct ChangePush {
    wake: Arc<Notify>,
    live: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ChangePush {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ChangePush {
    /// Asks the source to push the changes logged after `from`, through `conn` (a search of
    /// its own on the shared connection).
    pub fn start(conn: &LdapConnection, source: &LdapSource, from: &ChangelogCursor) -> ChangePush {
        let wake = Arc::new(Notify::new());
        let live = Arc::new(AtomicBool::new(true));
        let request = PushRequest::for_source(source, from);
        let task = tokio::spawn({
            let (mut conn, wake, live) = (conn.clone(), wake.clone(), live.clone());
            let source = source.name.clone();
            async move {
                let why = request.follow(&mut conn, &wake).await;
                live.store(false, Ordering::Relaxed);
                // One line when it ends: polling goes on as before.
                tracing::info!("sync source \"{source}\" does not push changes ({why}); polling");
                wake.notify_one();
            }
        });
        ChangePush { wake, live, task }
    }

    /// Whether the source still pushes.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Relaxed)
    }

    /// Resolves once a change was pushed since the last call (at once if one was meanwhile).
    pub async fn pushed(&self) {
        self.wake.notified().await
    }
}

enum PushRequest {
    DraftGood,
    /// Accesslog records from this reqStart on.
    Accesslog {
        base: String,
        from: Option<String>,
    },
}

impl PushRequest {
    fn for_source(source: &LdapSource, from: &ChangelogCursor) -> PushRequest {
        match source.changelog {
            ChangelogFlavor::OpenldapAccesslog => PushRequest::Accesslog {
                base: source.accesslog_base_dn.clone(),
                from: match from {
                    ChangelogCursor::Accesslog { req_start, .. } => req_start.clone(),
                    ChangelogCursor::DraftGood { .. } => None,
                },
            },
            ChangelogFlavor::DraftGood => PushRequest::DraftGood,
        }
    }

    /// Wakes `wake` for every record the server sends; returns why it stopped.
    async fn follow(&self, conn: &mut LdapConnection, wake: &Notify) -> String {
        let (base, filter, control): (String, String, RawControl) = match self {
            PushRequest::DraftGood => {
                let base = match RootDse::read(conn).await {
                    Ok(dse) => dse.changelog.unwrap_or_else(|| "cn=changelog".into()),
                    Err(e) => return e.to_string(),
                };
                let control = RawControl {
                    ctype: PERSISTENT_SEARCH_OID.into(),
                    crit: true,
                    val: Some(PERSISTENT_SEARCH_ADDS_ONLY.to_vec()),
                };
                (base, "(objectClass=*)".into(), control)
            }
            PushRequest::Accesslog { base, from } => {
                // Only records at or after the cursor: the refresh phase sends those that
                // exist (wakes that find what is read anyway), then each new one.
                let filter = accesslog_filter(from.as_deref(), None);
                let control = SyncRequest {
                    mode: RefreshMode::RefreshAndPersist,
                    cookie: None,
                    reload_hint: false,
                }
                .critical()
                .into();
                (base.clone(), filter, control)
            }
        };
        let mut ldap = conn.ldap.clone();
        let mut stream = match ldap
            .with_controls(control)
            .streaming_search(&base, ldap3::Scope::OneLevel, &filter, vec!["1.1"])
            .await
        {
            Ok(stream) => stream,
            Err(e) => return format!("searching \"{base}\": {e}"),
        };
        loop {
            match stream.next().await {
                Ok(Some(entry)) => {
                    // Sync info messages (end of the refresh phase) are not records.
                    if !entry.is_intermediate() {
                        wake.notify_one();
                    }
                }
                Ok(None) => break,
                Err(e) => return format!("searching \"{base}\": {e}"),
            }
        }
        match stream.finish().await.success() {
            Ok(_) => "the search ended".into(),
            Err(e) => format!("searching \"{base}\": {e}"),
        }
    }
}
