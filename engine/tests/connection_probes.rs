//! "Test connection" and startpoints against a real slapd and a real scim2-server.

use engine::config::{ChangelogFlavor, LdapSource, ScimAuth, ScimServer, Secret};
use engine::crypto::Cipher;
use engine::ldap::{self, ChangelogHead};
use engine::startpoint::{ChangelogCursor, StartpointRequest};
use test_support::*;

fn source(slapd: &Slapd) -> LdapSource {
    serde_json::from_value(serde_json::json!({
        "name": "test",
        "servers": [slapd.address()],
        "bind-dn": SYNC_DN,
        "bind-password": SYNC_PASSWORD,
        "base-dns": [format!("ou=people,{SUFFIX}"), format!("ou=groups,{SUFFIX}")],
        "changelog": "openldap-accesslog",
    }))
    .unwrap()
}

fn add_user(slapd: &Slapd, uid: &str) {
    slapd.modify(&format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
    ));
}

#[tokio::test]
async fn ldap_probe_reports_server_base_dns_and_accesslog() {
    let slapd = Slapd::start();
    let cipher = Cipher::ephemeral();
    let mut src = source(&slapd);
    // Nothing logged yet.
    let report = ldap::probe(&src, &cipher).await.unwrap();
    assert_eq!(report.server, slapd.address());
    assert!(report.paged_results);
    assert!(report.base_dns.iter().all(|b| b.found), "{report:#?}");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        report.changelog,
        Some(ChangelogHead::Accesslog {
            base_dn: "cn=accesslog".into(),
            newest_req_start: None
        })
    );
    assert_eq!(
        report.entry_ids.as_deref(),
        Some(
            "entryUUID (the changelog holds no record yet to show that it records it as reqEntryUUID)"
        )
    );
    add_user(&slapd, "alice");
    add_user(&slapd, "bob");
    let report = ldap::probe(&src, &cipher).await.unwrap();
    assert_eq!(
        report.entry_ids.as_deref(),
        Some("entryUUID, which the changelog records with each change (reqEntryUUID)")
    );
    let Some(ChangelogHead::Accesslog {
        newest_req_start: Some(newest),
        ..
    }) = report.changelog
    else {
        panic!("{report:#?}")
    };
    assert!(newest.ends_with('Z') && newest.len() >= 15, "{newest}");

    // A missing base DN and the wrong changelog flavour are problems, not failures.
    src.base_dns.push(format!("ou=missing,{SUFFIX}"));
    src.changelog = ChangelogFlavor::DraftGood;
    let report = ldap::probe(&src, &cipher).await.unwrap();
    assert!(!report.base_dns[2].found);
    let problems = report.problems.join("\n");
    assert!(
        problems.contains("base DN \"ou=missing,dc=example,dc=com\" does not exist"),
        "{problems}"
    );
    assert!(problems.contains("changelog (draft-good)"), "{problems}");
    assert_eq!(report.changelog, None);
}

#[tokio::test]
async fn ldap_probe_fails_over_and_names_bind_errors() {
    let slapd = Slapd::start();
    let cipher = Cipher::ephemeral();
    let mut src = source(&slapd);
    let dead = format!("127.0.0.1:{}", free_port());
    src.servers.insert(0, dead.parse().unwrap());
    let report = ldap::probe(&src, &cipher).await.unwrap();
    assert_eq!(report.server, slapd.address());
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0].starts_with(&format!("{dead}: cannot connect")),
        "{:?}",
        report.skipped
    );

    src.bind_password = Secret::plain("wrong");
    let e = ldap::probe(&src, &cipher).await.unwrap_err().to_string();
    assert!(
        e.contains("bind as \"cn=sync,dc=example,dc=com\" refused: invalidCredentials (49)"),
        "{e}"
    );
    assert!(
        !e.contains("wrong"),
        "the password must not appear in errors: {e}"
    );
}

#[tokio::test]
async fn accesslog_startpoints_resolve_against_the_log() {
    let slapd = Slapd::start();
    let cipher = Cipher::ephemeral();
    let src = source(&slapd);
    add_user(&slapd, "carol");
    let mut conn = ldap::connect(&src, &cipher).await.unwrap();
    let end = ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::EndOfChangelog)
        .await
        .unwrap();
    let ChangelogCursor::Accesslog {
        req_start: Some(end_at),
        inclusive: false,
    } = &end
    else {
        panic!("{end:?}")
    };
    let beginning =
        ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::BeginningOfChangelog)
            .await
            .unwrap();
    assert_eq!(
        beginning,
        ChangelogCursor::Accesslog {
            req_start: None,
            inclusive: true
        }
    );
    let e = ldap::resolve_startpoint(
        &mut conn,
        &src,
        &StartpointRequest::ChangeNumber { change_number: 3 },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("no change numbers"), "{e}");
    // A later write moves the end.
    add_user(&slapd, "dave");
    let later = ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::EndOfChangelog)
        .await
        .unwrap();
    let ChangelogCursor::Accesslog {
        req_start: Some(later_at),
        ..
    } = &later
    else {
        panic!()
    };
    assert!(later_at > end_at, "{later_at} should be after {end_at}");
    conn.close().await;
}

#[tokio::test]
async fn paged_search_treats_limits_as_errors() {
    let slapd = Slapd::start();
    let cipher = Cipher::ephemeral();
    for i in 0..60 {
        add_user(&slapd, &format!("user{i:02}"));
    }
    // The sync user has no size limit: all 60 come back, in pages.
    let mut conn = ldap::connect(&source(&slapd), &cipher).await.unwrap();
    let n = conn
        .paged_search(
            &format!("ou=people,{SUFFIX}"),
            "(objectClass=inetOrgPerson)",
            &["uid"],
            7,
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(n, 60);
    conn.close().await;
    // The manager... is rootdn (unlimited); an ordinary user gets the global sizelimit of 50,
    // and without paging that must surface as sizeLimitExceeded rather than 50 entries.
    slapd.modify(&format!(
        "dn: uid=reader,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: reader\ncn: r\nsn: r\nuserPassword: readerpw\n"
    ));
    let mut reader = source(&slapd);
    reader.bind_dn = format!("uid=reader,ou=people,{SUFFIX}");
    reader.bind_password = Secret::plain("readerpw");
    let mut conn = ldap::connect(&reader, &cipher).await.unwrap();
    let e = conn
        .paged_search(
            &format!("ou=people,{SUFFIX}"),
            "(objectClass=inetOrgPerson)",
            &["uid"],
            1000,
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("sizeLimitExceeded (4)"), "{e}");
    conn.close().await;
}

#[tokio::test]
async fn scim_probe_reads_capabilities_and_checks_credentials() {
    let scim = Scim2Server::start("probe-token");
    let cipher = Cipher::ephemeral();
    let mut server: ScimServer = serde_json::from_value(serde_json::json!({
        "name": "s", "base-url": scim.base_url(), "auth": {"type": "bearer-token", "token": "probe-token"}
    }))
    .unwrap();
    let report = engine::scim::probe(&server, &cipher).await.unwrap();
    assert!(
        report.patch && report.bulk && report.filter && report.etag,
        "{report:#?}"
    );
    assert_eq!(report.bulk_max_operations, Some(1000));
    assert_eq!(report.filter_max_results, Some(1000));
    let endpoints: Vec<_> = report
        .resource_types
        .iter()
        .map(|r| r.endpoint.as_str())
        .collect();
    assert_eq!(endpoints, vec!["/Users", "/Groups"]);
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    server.auth = ScimAuth::BearerToken {
        token: Secret::plain("wrong-token"),
    };
    let report = engine::scim::probe(&server, &cipher).await.unwrap();
    assert!(report.resource_types.is_empty());
    assert_eq!(
        report.problems,
        vec!["GET /ResourceTypes was refused with HTTP 401: the credentials are missing or wrong"]
    );

    server.base_url = format!("http://127.0.0.1:{}/v2", free_port());
    let e = engine::scim::probe(&server, &cipher)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "GET {}/ServiceProviderConfig: cannot connect",
            server.base_url
        )),
        "{e}"
    );
    server.auth = ScimAuth::BearerToken {
        token: Secret::plain("probe-token"),
    };
    server.base_url = format!("{}/nothing-here", scim.base_url());
    let e = engine::scim::probe(&server, &cipher)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("HTTP 404"), "{e}");
}

#[tokio::test]
async fn http_basic_and_oauth2_client_credentials_reach_the_service() {
    let scim = Scim2Server::start("gateway-token");
    let proxy = AuthProxy::start(
        &scim,
        "gateway-token",
        "alice",
        "s3cret",
        "scimsync",
        "client-secret",
    );
    let cipher = Cipher::ephemeral();

    // HTTP Basic, checked by nginx's auth_basic.
    let mut basic: ScimServer = serde_json::from_value(serde_json::json!({
        "name": "b", "base-url": format!("http://127.0.0.1:{}/basic/v2", proxy.port),
        "auth": {"type": "basic", "username": "alice", "password": "s3cret"}
    }))
    .unwrap();
    let report = engine::scim::probe(&basic, &cipher).await.unwrap();
    assert!(
        report.problems.is_empty() && report.resource_types.len() == 2,
        "{report:#?}"
    );
    basic.auth = ScimAuth::Basic {
        username: "alice".into(),
        password: Secret::plain("wrong"),
    };
    let e = engine::scim::probe(&basic, &cipher)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("HTTP 401"), "{e}");

    // OAuth 2.0 client credentials: a token from the token endpoint, then used as Bearer.
    let mut oauth: ScimServer = serde_json::from_value(serde_json::json!({
        "name": "o", "base-url": scim.base_url(),
        "auth": {"type": "oauth2-client-credentials", "token-url": format!("http://127.0.0.1:{}/oauth/token", proxy.port),
                 "client-id": "scimsync", "client-secret": "client-secret", "scope": "scim"}
    }))
    .unwrap();
    let report = engine::scim::probe(&oauth, &cipher).await.unwrap();
    assert!(
        report.problems.is_empty() && report.resource_types.len() == 2,
        "{report:#?}"
    );
    if let ScimAuth::Oauth2ClientCredentials { client_secret, .. } = &mut oauth.auth {
        *client_secret = Secret::plain("not-the-secret");
    }
    let e = engine::scim::probe(&oauth, &cipher)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("OAuth token request to")
            && e.contains("HTTP 401")
            && e.contains("invalid_client"),
        "{e}"
    );
    assert!(
        !e.contains("not-the-secret"),
        "secrets never appear in errors: {e}"
    );
}

#[tokio::test]
async fn draft_good_changelog_head_and_startpoints_on_389_directory_server() {
    let ds = Ds389::start();
    let cipher = Cipher::ephemeral();
    let mut src: LdapSource = serde_json::from_value(serde_json::json!({
        "name": "389", "servers": [ds.address()], "bind-dn": SYNC_DN, "bind-password": SYNC_PASSWORD,
        "base-dns": [format!("ou=people,{SUFFIX}")], "changelog": "draft-good",
    }))
    .unwrap();
    // An empty retro changelog reports 0/0.
    let report = ldap::probe(&src, &cipher).await.unwrap();
    assert_eq!(
        report.changelog,
        Some(ChangelogHead::DraftGood {
            base_dn: "cn=changelog".into(),
            first_change_number: 0,
            last_change_number: 0
        })
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        report.entry_ids.as_deref(),
        Some(
            "nsUniqueId (the changelog holds no record yet to show that it records it as targetUniqueId)"
        )
    );
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let ldif: String = (1..=3)
        .map(|i| format!("dn: uid=u{i},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: u{i}\ncn: U{i}\nsn: S\n\n"))
        .collect();
    ds.modify(&ldif);
    let report = ldap::probe(&src, &cipher).await.unwrap();
    assert_eq!(
        report.changelog,
        Some(ChangelogHead::DraftGood {
            base_dn: "cn=changelog".into(),
            first_change_number: 1,
            last_change_number: 3
        })
    );
    assert_eq!(
        report.entry_ids.as_deref(),
        Some("nsUniqueId, which the changelog records with each change (targetUniqueId)")
    );

    let mut conn = ldap::connect(&src, &cipher).await.unwrap();
    let end = ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::EndOfChangelog)
        .await
        .unwrap();
    assert_eq!(
        end,
        ChangelogCursor::DraftGood {
            last_change_number: 3
        }
    );
    let beginning =
        ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::BeginningOfChangelog)
            .await
            .unwrap();
    assert_eq!(
        beginning,
        ChangelogCursor::DraftGood {
            last_change_number: 0
        }
    );
    let at_two = ldap::resolve_startpoint(
        &mut conn,
        &src,
        &StartpointRequest::ChangeNumber { change_number: 2 },
    )
    .await
    .unwrap();
    assert_eq!(
        at_two,
        ChangelogCursor::DraftGood {
            last_change_number: 1
        }
    );
    let beyond = ldap::resolve_startpoint(
        &mut conn,
        &src,
        &StartpointRequest::ChangeNumber { change_number: 9 },
    )
    .await
    .unwrap_err();
    assert!(
        beyond
            .to_string()
            .contains("beyond the end of the changelog (the newest is 3)"),
        "{beyond}"
    );
    let by_time =
        ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::Time { time: before })
            .await
            .unwrap();
    assert_eq!(
        by_time,
        ChangelogCursor::DraftGood {
            last_change_number: 0
        }
    );
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    let after_all =
        ldap::resolve_startpoint(&mut conn, &src, &StartpointRequest::Time { time: future })
            .await
            .unwrap();
    assert_eq!(
        after_all,
        ChangelogCursor::DraftGood {
            last_change_number: 3
        }
    );
    conn.close().await;

    // Configured for the accesslog, the probe says what the server offers instead.
    src.changelog = engine::config::ChangelogFlavor::OpenldapAccesslog;
    let report = ldap::probe(&src, &cipher).await.unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("choose the draft-good changelog")),
        "{:?}",
        report.problems
    );
}
