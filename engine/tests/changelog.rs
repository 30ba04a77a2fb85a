//! Changelog readers against the real thing: 389 DS's Retro Changelog and OpenLDAP's accesslog.

use engine::changelog::{ChangeKind, ChangeRecord, read_changes};
use engine::config::{ChangelogFlavor, LdapSource};
use engine::crypto::Cipher;
use engine::ldap;
use engine::startpoint::StartpointRequest;
use test_support::*;

const STREAM: &str = "dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: add\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: A\nuserPassword: clear-secret\n\n\
dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: sn\nsn: B\n-\nadd: mail\nmail: alice@example.com\n\n\
dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=alice2\ndeleteoldrdn: 1\n\n\
dn: uid=alice2,ou=people,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=alice2\ndeleteoldrdn: 1\nnewsuperior: ou=groups,dc=example,dc=com\n\n\
dn: uid=alice2,ou=groups,dc=example,dc=com\nchangetype: delete\n\n";

fn source(address: String, flavour: ChangelogFlavor) -> LdapSource {
    serde_json::from_value(serde_json::json!({
        "name": "s", "servers": [address], "bind-dn": SYNC_DN, "bind-password": SYNC_PASSWORD,
        "base-dns": [format!("ou=people,{SUFFIX}"), format!("ou=groups,{SUFFIX}")],
        "changelog": match flavour { ChangelogFlavor::DraftGood => "draft-good", ChangelogFlavor::OpenldapAccesslog => "openldap-accesslog" },
    }))
    .unwrap()
}

/// Reads everything from the beginning in batches of two.
async fn read_all(src: &LdapSource) -> Vec<ChangeRecord> {
    let cipher = Cipher::ephemeral();
    let mut conn = ldap::connect(src, &cipher).await.unwrap();
    let mut cursor =
        ldap::resolve_startpoint(&mut conn, src, &StartpointRequest::BeginningOfChangelog)
            .await
            .unwrap();
    let mut all = Vec::new();
    loop {
        let batch = read_changes(&mut conn, src, &cursor, 2).await.unwrap();
        assert!(batch.records.len() <= 2);
        let Some(end) = batch.end else { break };
        cursor = end;
        all.extend(batch.records);
    }
    conn.close().await;
    all
}

/// The five records of STREAM, whatever else the server logged around them.
fn check_stream(records: &[ChangeRecord]) {
    let mine: Vec<&ChangeRecord> = records.iter().filter(|r| r.dn.contains("alice")).collect();
    let kinds: Vec<&ChangeKind> = mine.iter().map(|r| &r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &ChangeKind::Add,
            &ChangeKind::Modify,
            &ChangeKind::ModDn {
                new_dn: format!("uid=alice2,ou=people,{SUFFIX}")
            },
            &ChangeKind::ModDn {
                new_dn: format!("uid=alice2,ou=groups,{SUFFIX}")
            },
            &ChangeKind::Delete,
        ],
        "{mine:#?}"
    );
    assert_eq!(mine[0].dn, format!("uid=alice,ou=people,{SUFFIX}"));
    assert_eq!(mine[4].dn, format!("uid=alice2,ou=groups,{SUFFIX}"));
    let id = mine[0].entry_id.clone().expect("a stable entry id");
    assert!(
        mine.iter().all(|r| r.entry_id.as_deref() == Some(&id)),
        "the id survives renames and moves"
    );
    let modified = mine[1].attributes();
    assert!(
        modified.contains(&"sn".to_owned()) && modified.contains(&"mail".to_owned()),
        "{modified:?}"
    );
    let raw = serde_json::to_string(&mine.iter().map(|r| &r.raw).collect::<Vec<_>>()).unwrap();
    assert!(
        !raw.contains("clear-secret"),
        "passwords never stay in kept records"
    );
}

#[tokio::test]
async fn reads_389_retro_changelog() {
    let ds = Ds389::start();
    ds.modify(STREAM);
    let records = read_all(&source(ds.address(), ChangelogFlavor::DraftGood)).await;
    check_stream(&records);
    let numbers: Vec<String> = records.iter().map(|r| r.cursor.to_string()).collect();
    assert_eq!(numbers.len(), 5, "{numbers:?}");
    assert_eq!(numbers[0], "after change number 1");
    assert_eq!(numbers[4], "after change number 5");
}

#[tokio::test]
async fn reads_openldap_accesslog() {
    let slapd = Slapd::start();
    slapd.modify(STREAM);
    let records = read_all(&source(slapd.address(), ChangelogFlavor::OpenldapAccesslog)).await;
    check_stream(&records);
    // Every record once: the cursor record itself is never read again.
    let mut starts: Vec<String> = records.iter().map(|r| r.cursor.to_string()).collect();
    let before = starts.len();
    starts.dedup();
    assert_eq!(starts.len(), before);
}

#[tokio::test]
async fn cursors_past_the_end_or_of_the_other_flavour() {
    let ds = Ds389::start();
    ds.modify(STREAM);
    let src = source(ds.address(), ChangelogFlavor::DraftGood);
    let mut conn = ldap::connect(&src, &Cipher::ephemeral()).await.unwrap();
    // A cursor from the future reads nothing; a mismatched cursor is refused by name.
    let future = engine::startpoint::ChangelogCursor::DraftGood {
        last_change_number: 99,
    };
    assert!(
        read_changes(&mut conn, &src, &future, 10)
            .await
            .unwrap()
            .records
            .is_empty()
    );
    let wrong = engine::startpoint::ChangelogCursor::Accesslog {
        req_start: None,
        inclusive: true,
    };
    let e = read_changes(&mut conn, &src, &wrong, 10)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("does not fit the source's draft-good changelog"),
        "{e}"
    );
}

/// Against a server that answers newest first and, past the size limit, with the newest of
/// them: every change is read once, in order, none skipped.
async fn reads_every_change_of_a_server_that_answers_out_of_order(shape: Shape) {
    const CHANGES: u64 = 57;
    let server = ShuffledChangelog::start(shape, CHANGES).await;
    let flavour = match shape {
        Shape::DraftGood => ChangelogFlavor::DraftGood,
        Shape::Accesslog => ChangelogFlavor::OpenldapAccesslog,
    };
    let src = source(server.address(), flavour);
    let cipher = Cipher::ephemeral();
    let mut conn = ldap::connect(&src, &cipher).await.unwrap();
    let mut cursor = match shape {
        Shape::DraftGood => engine::startpoint::ChangelogCursor::DraftGood {
            last_change_number: 0,
        },
        Shape::Accesslog => engine::startpoint::ChangelogCursor::Accesslog {
            req_start: None,
            inclusive: true,
        },
    };
    let mut seen = Vec::new();
    for _ in 0..100 {
        let batch = read_changes(&mut conn, &src, &cursor, 10).await.unwrap();
        assert!(batch.records.len() <= 10);
        seen.extend(batch.records.iter().map(|r| r.dn.clone()));
        match batch.end {
            Some(end) => cursor = end,
            None => break,
        }
    }
    let want: Vec<String> = (1..=CHANGES)
        .map(|n| format!("uid=u{n},ou=people,dc=example,dc=com"))
        .collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn draft_good_reads_in_order_whatever_the_server_order() {
    reads_every_change_of_a_server_that_answers_out_of_order(Shape::DraftGood).await;
}

#[tokio::test]
async fn accesslog_reads_in_order_whatever_the_server_order() {
    reads_every_change_of_a_server_that_answers_out_of_order(Shape::Accesslog).await;
}

/// The backlog is what is left to read after the cursor, for both flavours: STREAM's records
/// (and whatever the server logged with them) before reading, nothing after.
async fn the_backlog_is_what_is_left_to_read(src: LdapSource, modify: impl Fn(&str)) {
    use engine::source::{LdapConnector, SourceConnector};
    let cipher = Cipher::ephemeral();
    let mut conn = ldap::connect(&src, &cipher).await.unwrap();
    let mut cursor = ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::EndOfChangelog)
        .await
        .unwrap();
    conn.close().await;
    modify(STREAM);
    let connector = LdapConnector {
        source: src,
        cipher,
    };
    let mut changes = connector.connect().await.unwrap();
    let before = changes
        .backlog(&cursor)
        .await
        .expect("the backlog is known");
    assert!(!before.at_least, "{before:?}");
    let mut read = 0;
    loop {
        let batch = changes.read_changes(&cursor, 2).await.unwrap();
        let Some(end) = batch.end else { break };
        read += batch.records.len() as u64;
        cursor = end;
        let left = changes.backlog(&cursor).await.unwrap();
        assert_eq!(left.changes, before.changes - read, "{left:?} after {read}");
    }
    assert!(read >= 5, "{read}");
    assert_eq!(read, before.changes);
}

#[tokio::test]
async fn the_accesslog_backlog_is_what_is_left_to_read() {
    let slapd = Slapd::start();
    let src = source(slapd.address(), ChangelogFlavor::OpenldapAccesslog);
    the_backlog_is_what_is_left_to_read(src, |l| slapd.modify(l)).await;
}

#[tokio::test]
async fn the_draft_good_backlog_is_what_is_left_to_read() {
    let ds = Ds389::start();
    let src = source(ds.address(), ChangelogFlavor::DraftGood);
    the_backlog_is_what_is_left_to_read(src, |l| ds.modify(l)).await;
}
