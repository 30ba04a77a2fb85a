//! `scimsync resync` as an admin runs it, against a real slapd and scim2-server.

use std::path::Path;
use std::process::{Command, Output};
use test_support::*;

const PIPE: &str = "LDAP to SCIM";

fn scimsync(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimsync"))
        .env_remove("SCIMSYNC_DATABASE_URL")
        .env_remove("SCIMSYNC_KEY_FILE")
        .env("SCIMSYNC_DATA_DIR", data)
        .current_dir(data.parent().unwrap())
        .args(args)
        .output()
        .expect("run scimsync")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn user(uid: &str, email_json: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\n\
         uid: {uid}\ncn: {uid}\nsn: {uid}\ntestEmailJSON: {email_json}\n\n"
    )
}

#[test]
fn resync_reports_writes_failed_dns_and_takes_them_back() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start("cli-token");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = fixture_config(&slapd.address(), &scim.base_url(), "cli-token");
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let out = scimsync(
        &data,
        &[
            "config",
            "import",
            dir.path().join("config.json").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let mut ldif: String = (1..=5)
        .map(|i| {
            user(
                &format!("cli{i}"),
                &format!("{{\"value\":\"cli{i}@example.com\"}}"),
            )
        })
        .collect();
    ldif.push_str(&user("broken", "{oops"));
    slapd.modify(&ldif);

    // Dry run: nothing written, everything reported.
    let out = scimsync(&data, &["resync", "--pipe", PIPE, "--dry-run"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("would create uid=cli1,ou=people,dc=example,dc=com: {"),
        "{stdout}"
    );
    assert!(stdout.contains("Entries that would be created"), "{stdout}");
    assert!(stdout.contains("(dry run: nothing was changed)"));

    let out = scimsync(
        &data,
        &[
            "resync",
            "--pipe",
            PIPE,
            "--threads",
            "2",
            "--rate-per-second",
            "500",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("  {:<40} {:>10}", "Entries created", 5)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  {:<40} {:>10}", "Entries rejected", 1)),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "rejected uid=broken,ou=people,dc=example,dc=com: attribute mapping \"Emails\""
        ),
        "{stderr}"
    );
    let failed = std::fs::read_to_string(dir.path().join("resync-failed-DNs.ldif")).unwrap();
    assert!(
        failed.contains("\ndn: uid=broken,ou=people,dc=example,dc=com\n"),
        "{failed}"
    );

    // Fix the entry, then resync just the failed DNs.
    slapd.modify(&format!("dn: uid=broken,ou=people,{SUFFIX}\nchangetype: modify\nreplace: testEmailJSON\ntestEmailJSON: {{\"value\":\"fixed@example.com\"}}\n"));
    let out = scimsync(
        &data,
        &[
            "resync",
            "--pipe",
            PIPE,
            "--source-input-file",
            "resync-failed-DNs.ldif",
            "--failed-dns-file",
            "again.ldif",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("  {:<40} {:>10}", "Source entries retrieved", 1)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  {:<40} {:>10}", "Entries created", 1)),
        "{stdout}"
    );
    assert!(
        !dir.path().join("again.ldif").exists(),
        "no failures, no file"
    );

    // Everything is in sync now.
    let out = scimsync(&data, &["resync", "--pipe", PIPE]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(&format!("  {:<40} {:>10}", "Entries already in sync", 6)));

    // A preview of one entry: each step, and the action not done.
    let out = scimsync(
        &data,
        &[
            "preview",
            "--pipe",
            PIPE,
            "--dn",
            &format!("uid=cli1,ou=people,{SUFFIX}"),
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for step in [
        "1. Entry as read\n   cn: cli1\n",
        "2. Sync classes\n   → People: ",
        "filter: userName eq \"cli1\"",
        "Action: in-sync (not done: preview only)",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
    let out = scimsync(
        &data,
        &[
            "preview",
            "--pipe",
            PIPE,
            "--dn",
            &format!("uid=broken,ou=people,{SUFFIX}"),
            "--json",
        ],
    );
    let preview: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(preview["class"], "People");
    assert_eq!(preview["action"], "in-sync", "{preview:#}");

    // An entry deleted while nothing runs: --delete-missing lists it in a dry run, then
    // deletes its resource.
    slapd.modify(&format!(
        "dn: uid=cli5,ou=people,{SUFFIX}\nchangetype: delete\n\n"
    ));
    let gone = "missing uid=cli5,ou=people,dc=example,dc=com (Users ";
    let out = scimsync(
        &data,
        &["resync", "--pipe", PIPE, "--delete-missing", "--dry-run"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(gone) && stdout.contains("): would delete\n"),
        "{stdout}"
    );
    let row = |label: &str, n: u64| format!("  {label:<40} {n:>10}");
    assert!(
        stdout.contains(&row("Missing: resources that would be deleted", 1)),
        "{stdout}"
    );
    assert!(scim_people(&scim.base_url(), "cli-token").contains_key("cli5"));
    let out = scimsync(&data, &["resync", "--pipe", PIPE, "--delete-missing"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(gone) && stdout.contains("): deleted\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&row("Missing: resources deleted", 1)),
        "{stdout}"
    );
    assert!(!scim_people(&scim.base_url(), "cli-token").contains_key("cli5"));
    let out = scimsync(
        &data,
        &[
            "resync",
            "--pipe",
            PIPE,
            "--delete-missing",
            "--filter",
            "(uid=*)",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "clap refuses the combination");

    // The log of changes: the dry run left nothing, each resync its changes.
    let log = |args: &[&str]| {
        let out = scimsync(&data, &[&["log", "--pipe", PIPE][..], args].concat());
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let created: Vec<serde_json::Value> = log(&["--outcome", "created", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(created.len(), 6, "{created:#?}");
    assert!(log(&["--outcome", "deleted"]).contains("uid=cli5,"));
    assert!(created.iter().all(|c| c["phase"] == "resync"
        && c["endpoint"] == "Users"
        && c["summary"].as_str().unwrap().starts_with("POST with ")));
    let broken = log(&["--dn", "UID=BROKEN"]);
    assert!(broken.contains("rejected"), "{broken}");
    assert!(broken.contains("created"), "{broken}");
    assert!(broken.contains("in-sync"), "{broken}");
    let out = scimsync(&data, &["log", "--outcome", "made"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--outcome \"made\" is not an outcome (use one of: created,"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn resync_argument_errors_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = scimsync(&data, &["resync", "--pipe", "p", "--rate-per-second", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value '0' for '--rate-per-second <RATE_PER_SECOND>'"),
        "{}",
        text(&out.stderr)
    );
    let out = scimsync(&data, &["resync", "--pipe", "Nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("there is no sync pipe named \"Nope\""),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(dir.path().join("empty.ldif"), "# nothing\n").unwrap();
    let out = scimsync(
        &data,
        &[
            "resync",
            "--pipe",
            "Nope",
            "--source-input-file",
            "empty.ldif",
        ],
    );
    assert!(
        text(&out.stderr).contains("holds no dn: lines"),
        "{}",
        text(&out.stderr)
    );
    let out = scimsync(&data, &["resync", "--pipe", "Nope", "--filter", "(uid="]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rejections_can_be_listed_inspected_retried_and_dismissed() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start("cli-token");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = fixture_config(&slapd.address(), &scim.base_url(), "cli-token");
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    assert!(
        scimsync(
            &data,
            &[
                "config",
                "import",
                dir.path().join("config.json").to_str().unwrap()
            ]
        )
        .status
        .success()
    );
    // One mapping failure, one SCIM 400 (an unknown emails member).
    slapd.modify(
        &(user("bad-map", "{oops")
            + &user(
                "bad-scim",
                "{\"value\":\"x@example.com\",\"colour\":\"blue\"}",
            )),
    );
    assert_eq!(
        scimsync(&data, &["resync", "--pipe", PIPE]).status.code(),
        Some(3)
    );

    let list = text(&scimsync(&data, &["rejections", "list"]).stdout);
    assert!(
        list.contains("uid=bad-map,ou=people,dc=example,dc=com") && list.contains("uid=bad-scim"),
        "{list}"
    );
    let only = text(&scimsync(&data, &["rejections", "list", "--reason", "HTTP 400"]).stdout);
    assert!(
        only.contains("bad-scim") && !only.contains("bad-map"),
        "{only}"
    );
    let by_dn = text(&scimsync(&data, &["rejections", "list", "--dn", "BAD-MAP"]).stdout);
    assert!(
        by_dn.contains("bad-map") && !by_dn.contains("bad-scim"),
        "{by_dn}"
    );
    let id_of = |listing: &str| listing.split_whitespace().next().unwrap().to_owned();

    let shown = text(&scimsync(&data, &["rejections", "show", &id_of(&only)]).stdout);
    assert!(
        shown.contains("status     open") && shown.contains("SCIM request\nPOST http://"),
        "{shown}"
    );
    assert!(
        shown.contains("\"colour\": \"blue\"")
            && shown.contains("SCIM response")
            && shown.contains("\"status\": 400"),
        "{shown}"
    );

    // Fixed at the source, a retry creates the resource and resolves the rejection.
    slapd.modify(&format!("dn: uid=bad-map,ou=people,{SUFFIX}\nchangetype: modify\nreplace: testEmailJSON\ntestEmailJSON: {{\"value\":\"ok@example.com\"}}\n"));
    let retried = scimsync(&data, &["rejections", "retry", &id_of(&by_dn)]);
    assert!(
        retried.status.success(),
        "{}{}",
        text(&retried.stdout),
        text(&retried.stderr)
    );
    assert!(
        text(&retried.stdout).contains("uid=bad-map,ou=people,dc=example,dc=com: created"),
        "{}",
        text(&retried.stdout)
    );
    // Not fixed, a retry fails again (exit 3) and the rejection stays open.
    let again = scimsync(
        &data,
        &["rejections", "retry", "--all", "--reason", "HTTP 400"],
    );
    assert_eq!(again.status.code(), Some(3));
    assert!(
        text(&again.stdout).contains("rejected again"),
        "{}",
        text(&again.stdout)
    );
    let dismissed = text(&scimsync(&data, &["rejections", "dismiss", "--all"]).stdout);
    assert!(dismissed.contains(" dismissed"), "{dismissed}");
    assert_eq!(
        text(&scimsync(&data, &["rejections", "list"]).stdout).trim(),
        "No open rejected operations."
    );
    let gone = scimsync(&data, &["rejections", "retry", &id_of(&only)]);
    assert_eq!(gone.status.code(), Some(1));
}
