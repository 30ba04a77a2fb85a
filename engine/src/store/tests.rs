//! Store tests, run against both backends: a SQLite file and a fresh PostgreSQL database
//! (`SCIMSYNC_TEST_POSTGRES_URL`, default the local server's `test` database, used only to
//! create and drop a scratch database per test).

use super::config_store::CONFIG_WRITE_LOCK;
use super::*;
use crate::config::examples::example;
use crate::config::{ObjectKind, Secret};
use crate::rejection::{FailedStep, Phase};
use crate::startpoint::{ChangelogCursor, Startpoint, StartpointRequest};
use serde_json::json;

fn admin_url() -> String {
    std::env::var("SCIMSYNC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A scratch database that lives as long as the value.
struct Scratch {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl Scratch {
    async fn new(backend: Backend) -> Scratch {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("scimsync.db").display());
                Scratch {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                install_default_drivers();
                let name = format!("scimsync_test_{}", rand_suffix());
                let admin = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin_url())
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL is needed for store tests ({}): {e}",
                            redact_url(&admin_url())
                        )
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                let mut url = url::Url::parse(&admin_url()).unwrap();
                url.set_path(&format!("/{name}"));
                Scratch {
                    url: url.to_string(),
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    async fn drop_database(self) {
        if let Some(name) = self.pg_name {
            let admin = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&admin_url())
                .await
                .unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }
}

fn rand_suffix() -> String {
    use aes_gcm::aead::rand_core::RngCore;
    format!("{:016x}", aes_gcm::aead::OsRng.next_u64())
}

/// Runs the test body once per backend.
macro_rules! both_backends {
    ($name:ident, |$store:ident, $url:ident, $cipher:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run(backend: Backend) {
                let scratch = Scratch::new(backend).await;
                {
                    let $url = scratch.url.clone();
                    let $cipher = Cipher::ephemeral();
                    let $store = Store::open(&$url, $cipher.clone()).await.unwrap();
                    assert_eq!($store.backend(), backend);
                    $body
                    $store.close().await;
                }
                scratch.drop_database().await;
            }
            #[tokio::test]
            async fn sqlite() {
                run(Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                run(Backend::Postgres).await
            }
        }
    };
}

async fn import_example(store: &Store) {
    store.replace_all(example()).await.unwrap();
}

both_backends!(
    import_round_trips_in_order_with_secrets_sealed,
    |store, url, cipher| {
        import_example(&store).await;
        let loaded = store.load_config().await.unwrap();
        let mut expected = example();
        // Sealing is the only difference between what was imported and what is stored.
        for ((_, a), (_, b)) in loaded
            .clone()
            .secrets_mut()
            .into_iter()
            .zip(expected.secrets_mut())
        {
            assert!(matches!(a, Secret::Sealed(_)));
            assert_eq!(a.expose(&cipher).unwrap(), b.expose(&cipher).unwrap());
            *b = a.clone();
        }
        assert_eq!(loaded, expected);
        // No clear-text secret in any row.
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let bodies: Vec<(String,)> = sqlx::query_as("SELECT body FROM config_objects")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(bodies.len(), 20);
        assert!(
            bodies
                .iter()
                .all(|(b,)| !b.contains("syncpass") && !b.contains("token-123"))
        );
        pool.close().await;
    }
);

both_backends!(create_update_delete, |store, url, cipher| {
    let _ = (&url, &cipher);
    import_example(&store).await;
    let json = json!({"name": "Second Pipe", "source": "Corporate LDAP", "destination": "SCIM Destination"});
    assert_eq!(
        store
            .create(ObjectKind::SyncPipe, json.clone())
            .await
            .unwrap(),
        "Second Pipe"
    );
    assert!(matches!(
        store.create(ObjectKind::SyncPipe, json).await,
        Err(SaveError::AlreadyExists { .. })
    ));
    let names = store
        .load_config()
        .await
        .unwrap()
        .names(ObjectKind::SyncPipe);
    assert_eq!(names, vec!["LDAP to SCIM", "Second Pipe"]);

    let updated = json!({"name": "Second Pipe", "source": "Corporate LDAP", "destination": "SCIM Destination", "worker-count": 9});
    store
        .update(ObjectKind::SyncPipe, "Second Pipe", updated)
        .await
        .unwrap();
    assert_eq!(
        store.load_config().await.unwrap().sync_pipes[1].worker_count,
        9
    );
    let renamed =
        json!({"name": "Third", "source": "Corporate LDAP", "destination": "SCIM Destination"});
    assert!(matches!(
        store
            .update(ObjectKind::SyncPipe, "Second Pipe", renamed)
            .await,
        Err(SaveError::Rename { .. })
    ));
    let missing =
        json!({"name": "Nope", "source": "Corporate LDAP", "destination": "SCIM Destination"});
    assert!(matches!(
        store.update(ObjectKind::SyncPipe, "Nope", missing).await,
        Err(SaveError::NotFound { .. })
    ));

    store
        .delete(ObjectKind::SyncPipe, "Second Pipe")
        .await
        .unwrap();
    assert!(matches!(
        store.delete(ObjectKind::SyncPipe, "Second Pipe").await,
        Err(SaveError::NotFound { .. })
    ));
    // Order is kept after a deletion in the middle.
    store
        .delete(ObjectKind::AttributeMapping, "Hire Date")
        .await
        .unwrap();
    let names = store
        .load_config()
        .await
        .unwrap()
        .names(ObjectKind::AttributeMapping);
    assert_eq!(
        names[6..],
        [
            "Enterprise User".to_string(),
            "Postal Address".into(),
            "Emails".into(),
            "Group Name".into()
        ]
    );
});

both_backends!(
    referenced_objects_cannot_be_deleted,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        import_example(&store).await;
        match store
            .delete(ObjectKind::AttributeMapping, "User Name")
            .await
        {
            Err(SaveError::Referenced { by, .. }) => {
                let text = SaveError::Referenced {
                    kind: ObjectKind::AttributeMapping,
                    name: "User Name".into(),
                    by,
                }
                .to_string();
                assert_eq!(
                    text,
                    "SCIM 2.0 attribute mapping \"User Name\" is still used by SCIM 2.0 endpoint mapping \"Users\" \
                 (attribute-mappings[0]), SCIM 2.0 endpoint mapping \"Users\" (search-attribute-mappings[0])"
                );
            }
            other => panic!("expected Referenced, got {other:?}"),
        }
        assert!(
            store
                .load_config()
                .await
                .unwrap()
                .contains(ObjectKind::AttributeMapping, "User Name")
        );
    }
);

both_backends!(
    invalid_changes_leave_the_store_untouched,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        import_example(&store).await;
        let before = store.load_config().await.unwrap();
        let bad = json!({"name": "Broken", "pipe": "LDAP to SCIM", "include-filter": "(uid=", "endpoint-mapping": "Users"});
        match store.create(ObjectKind::SyncClass, bad).await {
            Err(SaveError::Invalid(errors)) => {
                assert_eq!(errors.len(), 1, "{errors:#?}");
                assert_eq!(errors[0].field, "include-filter");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        let shape = json!({"name": "Broken", "pipe": 3});
        assert!(
            matches!(store.create(ObjectKind::SyncClass, shape).await, Err(SaveError::Shape { error, .. }) if error.path == "pipe")
        );
        // Import is all-or-nothing: one bad object rejects the whole document.
        let mut bad_import = example();
        bad_import.sync_pipes[0].worker_count = 0;
        bad_import.scim_servers[0].base_url = "https://changed/v2".into();
        assert!(matches!(
            store.replace_all(bad_import).await,
            Err(SaveError::Invalid(_))
        ));
        assert_eq!(store.load_config().await.unwrap(), before);
    }
);

both_backends!(global_settings_and_startpoints, |store, url, cipher| {
    let _ = &url;
    import_example(&store).await;
    let global = crate::config::GlobalSettings {
        changelog_password_decryption_key: Some(Secret::plain("decrypt-me")),
        metrics_bearer_token: Some(Secret::plain("scrape-me")),
        ..Default::default()
    };
    store.set_global(global).await.unwrap();
    let global = store.load_config().await.unwrap().global;
    for (secret, clear) in [
        (
            global.changelog_password_decryption_key.unwrap(),
            "decrypt-me",
        ),
        (global.metrics_bearer_token.unwrap(), "scrape-me"),
    ] {
        assert!(matches!(secret, Secret::Sealed(_)));
        assert_eq!(secret.expose(&cipher).unwrap(), clear);
    }

    let sp = Startpoint {
        request: StartpointRequest::ChangeNumber { change_number: 42 },
        cursor: ChangelogCursor::DraftGood {
            last_change_number: 41,
        },
        set_at: chrono::Utc::now(),
    };
    store.set_startpoint("LDAP to SCIM", &sp).await.unwrap();
    let sp2 = Startpoint {
        request: StartpointRequest::EndOfChangelog,
        ..sp.clone()
    };
    store.set_startpoint("LDAP to SCIM", &sp2).await.unwrap();
    assert_eq!(store.startpoints().await.unwrap()["LDAP to SCIM"], sp2);
    // Deleting the pipe drops its startpoint.
    let mut c = store.load_config().await.unwrap();
    c.sync_classes.clear();
    c.sync_pipes.clear();
    store.replace_all(c).await.unwrap();
    assert!(store.startpoints().await.unwrap().is_empty());
});

both_backends!(
    rejections_kept_before_value_masking_are_masked_at_start,
    |store, url, cipher| {
        // A password PATCH a service refused, as an earlier release kept it: the value in
        // clear in the request, the service's answer quoting it, and the log's summary too.
        let clear = "Weak-Pa55";
        let old = json!({
            "id": "old-1", "pipe": "P", "phase": "realtime", "dn": "uid=ann,ou=people,dc=example,dc=com",
            "operation": "modify", "reason": format!("PATCH u: HTTP 400: password {clear} is too weak"),
            "source": {"dn": "uid=ann,ou=people,dc=example,dc=com", "attributes": {"userpassword": "***"}},
            "request": {"method": "PATCH", "url": "u", "body": {"Operations": [
                {"op": "replace", "path": "password", "value": clear},
                {"op": "replace", "path": "displayName", "value": "Ann"}]}},
            "response": {"status": 400, "detail": format!("password {clear} is too weak")},
            "created_at": "2026-12-01T00:00:00Z"
        });
        sqlx::query(
            "INSERT INTO rejected_operations (id, pipe, phase, dn, operation, reason, body, created_at, dn_key) \
             VALUES ('old-1', 'P', 'realtime', $1, 'modify', $2, $3, '2026-12-01T00:00:00Z', $4)",
        )
        .bind(old["dn"].as_str().unwrap())
        .bind(old["reason"].as_str().unwrap())
        .bind(old.to_string())
        .bind(dn_key(old["dn"].as_str().unwrap()))
        .execute(&store.pool)
        .await
        .unwrap();
        let logged = LoggedChange {
            id: String::new(),
            at: chrono::Utc::now(),
            pipe: "P".into(),
            phase: Phase::Realtime,
            dn: old["dn"].as_str().unwrap().into(),
            endpoint: None,
            resource_id: None,
            outcome: crate::report::ChangeOutcome::Rejected,
            summary: format!("rejected: {}", old["reason"].as_str().unwrap()),
            duration_ms: 3,
        };
        store.log_changes(&[logged]).await.unwrap();
        store.close().await;

        let store = Store::open(&url, cipher.clone()).await.unwrap();
        let (kept, _) = store.rejection("old-1").await.unwrap().unwrap();
        let text = serde_json::to_string(&kept).unwrap();
        assert!(!text.contains(clear), "{text}");
        assert!(text.contains("\"Ann\""), "the rest stays: {text}");
        assert_eq!(kept.reason, "PATCH u: HTTP 400: password *** is too weak");
        let listed = store.rejections(Some("P"), 10).await.unwrap();
        assert_eq!(listed[0].reason, kept.reason);
        let log = store
            .logged_changes(&SyncLogFilter {
                pipe: Some("P".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!log[0].summary.contains(clear), "{}", log[0].summary);
        // Nothing in the database holds it any more.
        for table in ["rejected_operations", "sync_log"] {
            let rows: Vec<(String,)> = sqlx::query_as(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE {} LIKE $1",
                if table == "sync_log" {
                    "summary"
                } else {
                    "body || reason"
                }
            ))
            .bind(format!("%{clear}%"))
            .fetch_all(&store.pool)
            .await
            .unwrap();
            assert_eq!(rows[0].0, "0", "{table}");
        }
        store.close().await;
    }
);

both_backends!(reopening_needs_the_same_key, |store, url, cipher| {
    import_example(&store).await;
    store.close().await;
    let reopened = Store::open(&url, cipher.clone()).await.unwrap();
    assert_eq!(reopened.load_config().await.unwrap().ldap_sources.len(), 1);
    reopened.close().await;
    assert!(matches!(
        Store::open(&url, Cipher::ephemeral()).await,
        Err(StoreError::KeyMismatch)
    ));
    // A sealed secret from another instance is refused on import.
    let mut foreign = example();
    foreign.seal_secrets(&Cipher::ephemeral()).unwrap();
    let store = Store::open(&url, cipher.clone()).await.unwrap();
    match store.replace_all(foreign).await {
        Err(SaveError::Secrets(errors)) => {
            assert_eq!(errors.len(), 2);
            assert_eq!(
                errors[0].0,
                "LDAP sync source \"Corporate LDAP\": bind-password"
            );
        }
        other => panic!("expected Secrets, got {other:?}"),
    }
    store.close().await;
});

#[tokio::test]
async fn unsupported_urls_are_named() {
    let e = Store::open("mysql://x", Cipher::ephemeral())
        .await
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "unsupported database URL \"mysql://x\": use sqlite://PATH or postgres://…"
    );
    assert_eq!(
        redact_url("postgres://u:secret@h/db"),
        "postgres://u:***@h/db"
    );
}

both_backends!(console_users_sessions_and_audit, |store, url, cipher| {
    let _ = (&url, &cipher);
    assert!(store.console_users().await.unwrap().is_empty());
    let password = "a long enough password";
    store
        .add_console_user("alice", password, Role::Admin)
        .await
        .unwrap();
    store
        .add_console_user("victor", "viewer password 1", Role::Viewer)
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_console_user("alice", password, Role::Viewer)
            .await,
        Err(AccessError::Exists(_))
    ));
    assert!(matches!(
        store
            .add_console_user("bad name", password, Role::Viewer)
            .await,
        Err(AccessError::BadUsername(_))
    ));
    assert!(matches!(
        store.add_console_user("bob", "short", Role::Viewer).await,
        Err(AccessError::ShortPassword(_))
    ));
    // Only an argon2 hash is stored.
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM console_users WHERE username = 'alice'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(password));

    let alice = store.check_console_login("alice", password).await.unwrap();
    assert_eq!(
        alice,
        Some(ConsoleUser {
            username: "alice".into(),
            role: Role::Admin
        })
    );
    assert_eq!(
        store
            .check_console_login("alice", "wrong password!")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.check_console_login("nobody", password).await.unwrap(),
        None
    );

    let token = store
        .open_console_session("alice", chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(store.console_session(&token).await.unwrap(), alice);
    assert_eq!(store.console_session("forged").await.unwrap(), None);
    let expired = store
        .open_console_session("victor", chrono::Duration::seconds(-1))
        .await
        .unwrap();
    assert_eq!(store.console_session(&expired).await.unwrap(), None);
    // A new password signs the user out.
    store
        .set_console_password("alice", "another long password")
        .await
        .unwrap();
    assert_eq!(store.console_session(&token).await.unwrap(), None);
    assert!(
        store
            .check_console_login("alice", password)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.remove_console_user("alice").await,
        Err(AccessError::LastAdmin(_))
    ));
    store.remove_console_user("victor").await.unwrap();

    store
        .record_audit(
            "console:alice",
            "update",
            "sync pipe \"P\"",
            "max-ops-per-second",
        )
        .await
        .unwrap();
    store
        .record_audit("cli:root", "import", "configuration", "3 objects")
        .await
        .unwrap();
    let log = store.audit_log(10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "import", "newest first");
    assert_eq!(log[1].actor, "console:alice");
});

both_backends!(
    pipe_leases_go_to_one_holder_at_a_time,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        use crate::startpoint::ChangelogCursor;
        use std::time::Duration;
        let long = Duration::from_secs(60);
        assert!(store.hold_lease("P", "a", long).await.unwrap());
        assert!(
            !store.hold_lease("P", "b", long).await.unwrap(),
            "held by a"
        );
        assert!(store.hold_lease("P", "a", long).await.unwrap(), "a renews");
        assert!(
            store.hold_lease("Q", "b", long).await.unwrap(),
            "another pipe is free"
        );
        assert_eq!(store.lease_holder("P").await.unwrap().as_deref(), Some("a"));
        // Only the holder moves the checkpoint.
        let cursor = ChangelogCursor::DraftGood {
            last_change_number: 7,
        };
        assert!(
            store
                .save_realtime_cursor_holding("P", &cursor, "a")
                .await
                .unwrap()
        );
        let other = ChangelogCursor::DraftGood {
            last_change_number: 9,
        };
        assert!(
            !store
                .save_realtime_cursor_holding("P", &other, "b")
                .await
                .unwrap()
        );
        assert_eq!(store.realtime_cursor("P").await.unwrap(), Some(cursor));
        // An expired lease may be taken over; the old holder can no longer save.
        assert!(
            store
                .hold_lease("P", "a", Duration::from_millis(1))
                .await
                .unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(store.lease_holder("P").await.unwrap(), None);
        assert!(store.hold_lease("P", "b", long).await.unwrap());
        assert!(
            !store
                .save_realtime_cursor_holding("P", &other, "a")
                .await
                .unwrap()
        );
        assert!(!store.hold_lease("P", "a", long).await.unwrap());
        // Released: free at once.
        store.release_lease("P", "b").await.unwrap();
        assert!(store.hold_lease("P", "a", long).await.unwrap());
        let leases = store.pipe_leases().await.unwrap();
        assert_eq!(leases.len(), 2);
        assert!(leases.iter().all(|l| l.remaining_ms > 50_000), "{leases:?}");
    }
);

/// Entry `n` of class People, synchronised to `scim_id` at Users.
fn user_correlation(n: u32, dn: &str, scim_id: &str) -> Correlation {
    Correlation {
        entry_id: format!("uuid-{n}"),
        dn: dn.to_owned(),
        endpoint: "Users".into(),
        scim_id: scim_id.to_owned(),
        class: "People".into(),
        display: Some(format!("User {n}")),
    }
}

both_backends!(
    correlations_in_batches_cross_statements_and_keep_the_last_of_an_entry,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        let pipe = "P";
        let user = |n: u32, scim_id: &str| {
            user_correlation(n, &format!("uid=u{n},ou=people,dc=example,dc=com"), scim_id)
        };
        store
            .remember_resource(pipe, &user(7, "old"))
            .await
            .unwrap();
        // 1,200 rows: several statements in one transaction; entry 7 is named twice, the last wins.
        let mut batch: Vec<Correlation> = (0..1199).map(|n| user(n, &format!("id-{n}"))).collect();
        batch.push(user(7, "newest"));
        store.remember_resources(pipe, &batch).await.unwrap();
        store.remember_resources(pipe, &[]).await.unwrap();
        let keys: Vec<String> = (0..1199)
            .map(|n| dn_key(&format!("uid=u{n},ou=people,dc=example,dc=com")))
            .collect();
        let found = store.find_resources_by_dn(pipe, &keys).await.unwrap();
        assert_eq!(found.len(), 1199);
        assert_eq!(found[&keys[7]].scim_id, "newest");
        assert_eq!(found[&keys[1198]].scim_id, "id-1198");
    }
);

both_backends!(
    correlations_move_to_new_keys_and_two_of_one_entry_merge,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        let pipe = "P";
        assert_eq!(store.entry_id_attribute(pipe).await.unwrap(), None);
        store
            .set_entry_id_attribute(pipe, "entryUUID")
            .await
            .unwrap();
        store
            .set_entry_id_attribute(pipe, "nsUniqueId")
            .await
            .unwrap();
        assert_eq!(
            store.entry_id_attribute(pipe).await.unwrap().as_deref(),
            Some("nsUniqueId")
        );
        let dn = |uid: &str| format!("uid={uid},ou=people,dc=example,dc=com");
        // Entry 1 under its old id; entry 2 under both (renamed: the newer row at its new DN);
        // entry 3 under both with different resources.
        for c in [
            user_correlation(1, &dn("u1"), "r1"),
            user_correlation(2, &dn("u2"), "r2"),
            Correlation {
                entry_id: "ns-2".into(),
                ..user_correlation(2, &dn("moved2"), "r2")
            },
            user_correlation(3, &dn("u3"), "r3"),
            Correlation {
                entry_id: "ns-3".into(),
                ..user_correlation(3, &dn("u3"), "r3-second")
            },
        ] {
            store.remember_resource(pipe, &c).await.unwrap();
        }
        let to = |n: u32, uid: &str, scim_id: &str| Correlation {
            entry_id: format!("ns-{n}"),
            ..user_correlation(n, &dn(uid), scim_id)
        };
        let moves = [
            Rekey {
                from: "uuid-1".into(),
                to: to(1, "u1", "r1"),
            },
            Rekey {
                from: "uuid-2".into(),
                to: to(2, "moved2", "r2"),
            },
            Rekey {
                from: "uuid-3".into(),
                to: to(3, "u3", "r3"),
            },
            // A correlation already under its id, at a DN since changed.
            Rekey {
                from: "ns-2".into(),
                to: to(2, "moved2b", "r2"),
            },
        ];
        let done = store.rekey_correlations(pipe, &moves).await.unwrap();
        assert_eq!((done.moved, done.merged), (3, 2));
        // The merge that kept one of two resources says so.
        assert_eq!(done.differing.len(), 1);
        assert_eq!(done.differing[0].0.scim_id, "r3-second");
        assert_eq!(done.differing[0].1.scim_id, "r3");
        let kept = store.correlations_after(pipe, "", 10).await.unwrap();
        let summary: Vec<(String, String, String)> = kept
            .iter()
            .map(|c| (c.entry_id.clone(), c.dn.clone(), c.scim_id.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                ("ns-1".to_owned(), dn("u1"), "r1".to_owned()),
                ("ns-2".to_owned(), dn("moved2b"), "r2".to_owned()),
                ("ns-3".to_owned(), dn("u3"), "r3-second".to_owned()),
            ]
        );
        // Found by DN as moved.
        let found = store
            .find_resources_by_dn(pipe, &[dn_key(&dn("moved2b"))])
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
    }
);

both_backends!(
    correlations_by_dn_and_id_and_pending_references,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        let pipe = "LDAP to SCIM";
        let user = |n: u32, dn: &str| user_correlation(n, dn, &format!("id-{n}"));
        store
            .remember_resource(pipe, &user(1, "uid=a,ou=People,dc=example,dc=com"))
            .await
            .unwrap();
        store
            .remember_resource(pipe, &user(2, "uid=b,ou=people,dc=example,dc=com"))
            .await
            .unwrap();
        // Found by normalised DN, whatever the spelling; 250 keys cross one IN list.
        let mut keys: Vec<String> = (0..248).map(|i| format!("uid=nobody{i},dc=x")).collect();
        keys.push(dn_key("UID=A, ou=people,DC=example,dc=com"));
        keys.push(dn_key("uid=b,ou=people,dc=example,dc=com"));
        let found = store.find_resources_by_dn(pipe, &keys).await.unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[&keys[248]].scim_id, "id-1");
        assert_eq!(found[&keys[248]].display.as_deref(), Some("User 1"));
        assert!(
            store
                .find_resources_by_dn("other pipe", &keys)
                .await
                .unwrap()
                .is_empty()
        );
        // A rename moves the key along with the correlation.
        store
            .remember_resource(pipe, &user(1, "uid=a2,ou=people,dc=example,dc=com"))
            .await
            .unwrap();
        let renamed = store
            .find_resources_by_dn(
                pipe,
                &[
                    dn_key("uid=a2,ou=people,dc=example,dc=com"),
                    keys[248].clone(),
                ],
            )
            .await
            .unwrap();
        assert_eq!(renamed.len(), 1, "{renamed:?}");
        let by_id = store
            .find_resource_by_scim_id(pipe, "Users", "id-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_id.dn, "uid=a2,ou=people,dc=example,dc=com");
        assert!(
            store
                .find_resource_by_scim_id(pipe, "Groups", "id-1")
                .await
                .unwrap()
                .is_none()
        );
        // Correlations recorded before DN keys existed get theirs when the store opens.
        sqlx::query("UPDATE synced_resources SET dn_key = '' WHERE scim_id = 'id-2'")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(
            store
                .find_resources_by_dn(pipe, &keys[249..])
                .await
                .unwrap()
                .is_empty()
        );
        store.backfill_dn_keys().await.unwrap();
        assert_eq!(
            store
                .find_resources_by_dn(pipe, &keys[249..])
                .await
                .unwrap()
                .len(),
            1
        );

        // Pending references: replaced per referrer, found by target, counted, listed.
        let reference = |dn: &str| crate::mapping::references::PendingReference {
            mapping: "Members".into(),
            dn: dn.to_owned(),
        };
        let eng = "cn=eng,ou=groups,dc=example,dc=com";
        store
            .replace_pending_references(
                pipe,
                eng,
                &[
                    reference("uid=late,ou=people,dc=example,dc=com"),
                    reference("uid=later,ou=people,dc=example,dc=com"),
                ],
            )
            .await
            .unwrap();
        store
            .replace_pending_references(
                pipe,
                "cn=ops,ou=groups,dc=example,dc=com",
                &[reference("UID=Late,ou=people,dc=example,dc=com")],
            )
            .await
            .unwrap();
        assert_eq!(store.pending_reference_count(pipe).await.unwrap(), 3);
        let mut waiting = store
            .pending_referrers(pipe, "uid=late, ou=people,dc=example,dc=com")
            .await
            .unwrap();
        waiting.sort();
        assert_eq!(
            waiting,
            vec![
                eng.to_owned(),
                "cn=ops,ou=groups,dc=example,dc=com".to_owned()
            ]
        );
        let listed = store
            .pending_references(pipe, Some("CN=eng,ou=groups,dc=example,dc=com"), 10)
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].referrer_dn, eng);
        assert_eq!(
            store.pending_references(pipe, None, 1).await.unwrap().len(),
            1
        );
        store
            .replace_pending_references(pipe, eng, &[])
            .await
            .unwrap();
        assert_eq!(store.pending_reference_count(pipe).await.unwrap(), 1);
        assert_eq!(
            store
                .pending_referrers(pipe, "uid=later,ou=people,dc=example,dc=com")
                .await
                .unwrap(),
            Vec::<String>::new()
        );
    }
);

both_backends!(rejections_match_by_normalised_dn, |store, url, cipher| {
    let _ = (&url, &cipher);
    let pipe = "LDAP to SCIM";
    let entry = crate::mapping::LdapEntry::new("uid=Ann,ou=People,dc=example,dc=com");
    let first =
        crate::sync::Rejection::new(pipe, Phase::Realtime, &entry, FailedStep::Map, "first");
    store.record_rejection(&first).await.unwrap();
    // Another spelling of the same DN supersedes it, and resolves it.
    let other = crate::mapping::LdapEntry::new("UID=ann, ou=people,DC=example,dc=com");
    let second =
        crate::sync::Rejection::new(pipe, Phase::Realtime, &other, FailedStep::Map, "second");
    store.record_rejection(&second).await.unwrap();
    let open = store.rejections(Some(pipe), 10).await.unwrap();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0].reason, "second");
    assert!(
        store
            .open_rejection_dns(pipe)
            .await
            .unwrap()
            .contains(&dn_key("uid=ann,ou=people,dc=example,dc=com"))
    );
    store
        .resolve_rejection(pipe, "uid=ANN,ou=people,dc=example,dc=com", false)
        .await
        .unwrap();
    assert!(store.rejections(Some(pipe), 10).await.unwrap().is_empty());
    // A rejected password stays open until a change carrying one goes through.
    let password = crate::sync::Rejection {
        carries_password: true,
        ..crate::sync::Rejection::new(pipe, Phase::Realtime, &entry, FailedStep::Modify, "weak")
    };
    store.record_rejection(&password).await.unwrap();
    let dn = "uid=ann,ou=people,dc=example,dc=com";
    store.resolve_rejection(pipe, dn, false).await.unwrap();
    assert_eq!(store.rejections(Some(pipe), 10).await.unwrap().len(), 1);
    store.resolve_rejection(pipe, dn, true).await.unwrap();
    assert!(store.rejections(Some(pipe), 10).await.unwrap().is_empty());
});

/// Two instances on one PostgreSQL database: configuration writes are serialised by a
/// transaction-level advisory lock, so neither can validate against a state the other is
/// changing (one deletes a mapping while the other starts using it).
#[tokio::test]
async fn config_writes_of_two_instances_on_postgres_are_serialised() {
    let scratch = Scratch::new(Backend::Postgres).await;
    let cipher = Cipher::ephemeral();
    let one = Store::open(&scratch.url, cipher.clone()).await.unwrap();
    let two = Store::open(&scratch.url, cipher.clone()).await.unwrap();
    import_example(&one).await;

    // While someone holds the lock, a write waits for it.
    let mut holder = one.pool.acquire().await.unwrap();
    sqlx::query("BEGIN").execute(&mut *holder).await.unwrap();
    sqlx::query(&format!(
        "SELECT pg_advisory_xact_lock({CONFIG_WRITE_LOCK})"
    ))
    .execute(&mut *holder)
    .await
    .unwrap();
    let waiting = {
        let two = two.clone();
        tokio::spawn(async move {
            two.create(
                ObjectKind::SyncPipe,
                json!({"name": "Waits", "source": "Corporate LDAP", "destination": "SCIM Destination"}),
            )
            .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "the write did not wait for the lock"
    );
    sqlx::query("COMMIT").execute(&mut *holder).await.unwrap();
    drop(holder);
    waiting.await.unwrap().unwrap();

    // Racing edits that together would leave a dangling reference: one always loses.
    for round in 0..10 {
        let spare = format!("Spare {round}");
        one.create(
            ObjectKind::AttributeMapping,
            json!({"name": spare, "scim-attribute-name": "title", "attribute-usage": ["fetch"],
                   "syntax": {"type": "string", "ldap-attribute": "title", "single-valued": true}}),
        )
        .await
        .unwrap();
        let delete = {
            let (one, spare) = (one.clone(), spare.clone());
            tokio::spawn(async move { one.delete(ObjectKind::AttributeMapping, &spare).await })
        };
        let uses = {
            let (two, spare) = (two.clone(), spare.clone());
            tokio::spawn(async move {
                two.create(
                    ObjectKind::EndpointMapping,
                    json!({"name": format!("Uses {spare}"), "endpoint-path": format!("E{round}"),
                           "schema-urns": ["urn:x:core"], "attribute-mappings": [spare], "search-attribute-mappings": [spare]}),
                )
                .await
            })
        };
        let (deleted, used) = (delete.await.unwrap(), uses.await.unwrap());
        assert!(
            deleted.is_ok() != used.is_ok(),
            "round {round}: {deleted:?} {used:?}"
        );
        one.load_config().await.unwrap().validate().unwrap();
    }
    one.close().await;
    two.close().await;
    scratch.drop_database().await;
}

// A configuration save reads, then writes, while realtime sync writes its status and
// checkpoint on other connections: the save waits its turn instead of failing with "database
// is locked" (SQLite refuses to turn a read transaction into a write once another connection
// has written since it began).
both_backends!(
    configuration_saves_while_other_writers_write,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        let config = crate::config::examples::directory();
        store.replace_all(config.clone()).await.unwrap();
        let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let writer = tokio::spawn({
            let (store, writing) = (store.clone(), writing.clone());
            async move {
                let mut n = 0u64;
                while writing.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    store
                        .save_realtime_status("LDAP to SCIM", &serde_json::json!({ "n": n }))
                        .await
                        .unwrap();
                }
            }
        });
        for i in 0..40u64 {
            let mut changed = config.clone();
            changed.sync_pipes[0].polling_interval_ms = 100 + i;
            store
                .replace_all(changed)
                .await
                .unwrap_or_else(|e| panic!("save {i}: {e}"));
        }
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        writer.await.unwrap();
    }
);

both_backends!(
    the_log_of_changes_filters_pages_and_prunes,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        use crate::report::ChangeOutcome;
        use crate::store::{LoggedChange, SyncLogFilter};
        let start = chrono::Utc::now() - chrono::Duration::hours(1);
        let change = |n: i64, pipe: &str, outcome: ChangeOutcome| LoggedChange {
            id: String::new(),
            at: start + chrono::Duration::seconds(n),
            pipe: pipe.into(),
            phase: if n % 2 == 0 {
                Phase::Resync
            } else {
                Phase::Realtime
            },
            dn: format!("uid=U{n},ou=People,dc=example,dc=com"),
            endpoint: Some("Users".into()),
            resource_id: Some(format!("id-{n}")),
            outcome,
            summary: format!("POST with userName ({n})"),
            duration_ms: n as u64,
        };
        // A hundred rows in one call, several per microsecond.
        let changes: Vec<LoggedChange> = (0..100)
            .map(|n| {
                let outcome = if n % 10 == 0 {
                    ChangeOutcome::Rejected
                } else {
                    ChangeOutcome::Created
                };
                change(n, if n < 90 { "A" } else { "B" }, outcome)
            })
            .collect();
        store.log_changes(&changes).await.unwrap();
        let list = |f: SyncLogFilter| {
            let store = store.clone();
            async move { store.logged_changes(&f).await.unwrap() }
        };
        let all = list(SyncLogFilter {
            limit: 1000,
            ..Default::default()
        })
        .await;
        assert_eq!(all.len(), 100);
        assert_eq!(
            all[0].dn, "uid=U99,ou=People,dc=example,dc=com",
            "newest first"
        );
        assert_eq!(all[0].phase, Phase::Realtime);
        assert_eq!(all[0].resource_id.as_deref(), Some("id-99"));
        assert_eq!(all[0].duration_ms, 99);
        let rejected_in_a = list(SyncLogFilter {
            pipe: Some("A".into()),
            outcome: Some(ChangeOutcome::Rejected),
            limit: 1000,
            ..Default::default()
        })
        .await;
        assert_eq!(rejected_in_a.len(), 9);
        let by_dn = list(SyncLogFilter {
            dn: Some("uid=u42,OU=people".into()),
            limit: 10,
            ..Default::default()
        })
        .await;
        assert_eq!(by_dn.len(), 1, "{by_dn:?}");
        let since = list(SyncLogFilter {
            since: Some(start + chrono::Duration::seconds(95)),
            limit: 10,
            ..Default::default()
        })
        .await;
        assert_eq!(since.len(), 5);
        // Paging: the next page starts after the last one shown.
        let first = list(SyncLogFilter {
            limit: 30,
            ..Default::default()
        })
        .await;
        let second = list(SyncLogFilter {
            before: Some(first[29].id.clone()),
            limit: 30,
            ..Default::default()
        })
        .await;
        assert_eq!(second[0].dn, "uid=U69,ou=People,dc=example,dc=com");
        assert!(first.iter().all(|c| !second.contains(c)));

        // Older than 80 s after the start: 80 go; then a cap of 15 leaves 15 of the 20.
        let removed = store
            .prune_sync_log(start + chrono::Duration::seconds(80), 1_000)
            .await
            .unwrap();
        assert_eq!(removed, 80);
        assert_eq!(store.prune_sync_log(start, 15).await.unwrap(), 5);
        let left = list(SyncLogFilter {
            limit: 1000,
            ..Default::default()
        })
        .await;
        assert_eq!(left.len(), 15);
        assert_eq!(
            left[14].dn, "uid=U85,ou=People,dc=example,dc=com",
            "the newest stay"
        );
    }
);

both_backends!(
    held_deletes_replace_per_resource_and_applied_deletes_count_for_an_hour,
    |store, url, cipher| {
        let _ = (&url, &cipher);
        use crate::config::DeleteAction;
        let held = |n: u32, pipe: &str, resource: &str| HeldDelete {
            id: String::new(),
            held_at: chrono::Utc::now(),
            pipe: pipe.into(),
            dn: format!("uid=u{n},ou=people,dc=example,dc=com"),
            entry_id: Some(format!("uuid-{n}")),
            class: "People".into(),
            endpoint: "Users".into(),
            resource_id: resource.into(),
            display: None,
            action: DeleteAction::Deactivate,
            reason: "the entry was deleted".into(),
        };
        let first = store.hold_delete(&held(1, "P", "r1")).await.unwrap();
        store.hold_delete(&held(2, "P", "r2")).await.unwrap();
        store.hold_delete(&held(3, "Q", "r3")).await.unwrap();
        // A newer delete of the same resource replaces the older one.
        let again = store.hold_delete(&held(1, "P", "r1")).await.unwrap();
        assert_ne!(first.id, again.id);
        assert_eq!(store.held_delete(&first.id).await.unwrap(), None);
        let of_p = store.held_deletes(Some("P"), 10).await.unwrap();
        let resources: Vec<&str> = of_p.iter().map(|h| h.resource_id.as_str()).collect();
        assert_eq!(resources, ["r2", "r1"], "oldest first");
        assert_eq!(of_p[1], again);
        assert_eq!(store.held_deletes(None, 10).await.unwrap().len(), 3);
        assert_eq!(store.held_delete_count("P").await.unwrap(), 2);
        let mut counts = store.held_delete_counts().await.unwrap();
        counts.sort();
        assert_eq!(counts, [("P".to_owned(), 2), ("Q".to_owned(), 1)]);
        assert!(store.release_held_delete(&again.id).await.unwrap());
        assert!(!store.release_held_delete(&again.id).await.unwrap());
        assert_eq!(store.held_delete_count("P").await.unwrap(), 1);

        assert_eq!(store.deletes_in_last_hour("P").await.unwrap(), 0);
        store.note_delete_applied("P").await.unwrap();
        store.note_delete_applied("P").await.unwrap();
        store.note_delete_applied("Q").await.unwrap();
        assert_eq!(store.deletes_in_last_hour("P").await.unwrap(), 2);
        assert_eq!(store.deletes_in_last_hour("Q").await.unwrap(), 1);
        store
            .remember_resource("P", &user_correlation(1, "uid=u1,dc=example,dc=com", "r1"))
            .await
            .unwrap();
        assert_eq!(store.synchronised_count("P").await.unwrap(), 1);
        assert_eq!(store.synchronised_count("Q").await.unwrap(), 0);
    }
);

#[test]
fn batched_rows_go_in_statements_of_a_few_fixed_sizes() {
    let sizes = |n: usize| -> Vec<usize> {
        let rows = vec![0u8; n];
        statement_chunks(&rows).map(<[u8]>::len).collect()
    };
    assert_eq!(sizes(0), Vec::<usize>::new());
    assert_eq!(sizes(1), [1]);
    assert_eq!(sizes(128), [128]);
    assert_eq!(sizes(300), [128, 128, 32, 8, 4]);
    // Whatever the batch, at most eight statement texts: 128 and the powers of two below it.
    for n in 0..2000 {
        let chunks = sizes(n);
        assert_eq!(chunks.iter().sum::<usize>(), n);
        assert!(
            chunks
                .iter()
                .all(|s| s.is_power_of_two() && *s <= STATEMENT_ROWS)
        );
    }
}
