//! `scimsync config validate | import | export` run as a user would, on SQLite and PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXAMPLE: &str = include_str!("../../engine/tests/fixtures/example-config.json");

fn scimsync(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimsync"))
        .env_remove("SCIMSYNC_DATABASE_URL")
        .env_remove("SCIMSYNC_KEY_FILE")
        .env("SCIMSYNC_DATA_DIR", data_dir)
        .args(args)
        .output()
        .expect("run scimsync")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn validate_reports_every_problem_with_object_field_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", EXAMPLE);
    let out = scimsync(
        &dir.path().join("data"),
        &["config", "validate", good.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(
        "valid (1 × LDAP sync source, 1 × SCIM 2.0 external server, 15 × SCIM 2.0 attribute mapping"
    ));

    let mut json: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    json["sync-classes"][0]["include-filter"] = "(uid=".into();
    json["attribute-mappings"][0]["attribute-usage"] = serde_json::json!([]);
    json["sync-pipes"][0]["source"] = "Nowhere".into();
    let bad = write(dir.path(), "bad.json", &json.to_string());
    let out = scimsync(
        &dir.path().join("data"),
        &["config", "validate", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error: SCIM 2.0 attribute mapping \"User Name\": attribute-usage: needs at least one of fetch"), "{err}");
    assert!(err.contains("error: sync pipe \"LDAP to SCIM\": source = \"Nowhere\": there is no LDAP sync source with this name"), "{err}");
    assert!(
        err.contains(
            "error: sync class \"People\": include-filter = \"(uid=\": is not a valid LDAP filter"
        ),
        "{err}"
    );
    assert!(err.contains("3 problem(s)"), "{err}");
    // validate changes nothing and needs no instance.
    assert!(!dir.path().join("data").exists());

    json = serde_json::from_str(EXAMPLE).unwrap();
    json["sync-pipes"][0]["worker-count"] = "many".into();
    let shape = write(dir.path(), "shape.json", &json.to_string());
    let out = scimsync(
        &dir.path().join("data"),
        &["config", "validate", shape.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("at sync-pipes[0].worker-count: invalid type: string \"many\", expected u32"),
        "{}",
        text(&out.stderr)
    );

    let out = scimsync(
        &dir.path().join("data"),
        &["config", "validate", "/nonexistent.json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read /nonexistent.json"));
}

/// Import, export, re-import, refusal of foreign seals and of invalid files: on one backend.
fn import_export_cycle(data: &Path, extra: &[&str], files: &Path) {
    let args = |rest: &[&str]| -> Vec<String> {
        extra.iter().chain(rest).map(|s| s.to_string()).collect()
    };
    let run = |rest: &[&str]| {
        let a = args(rest);
        scimsync(data, &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let example = write(files, "example.json", EXAMPLE);
    let out = run(&["config", "import", example.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("imported "));

    let exported = files.join("exported.json");
    let out = run(&["config", "export", "--output", exported.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("secrets are exported sealed with key file"));
    let body = std::fs::read_to_string(&exported).unwrap();
    assert!(
        !body.contains("syncpass") && !body.contains("token-123"),
        "clear-text secret in the export"
    );
    assert!(body.contains("\"bind-password\": {\n        \"sealed\": \"v1:"));
    let reparsed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let original: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    assert_eq!(reparsed["attribute-mappings"], {
        // Defaults are written out explicitly on export.
        let mut m = original["attribute-mappings"].clone();
        for item in m.as_array_mut().unwrap() {
            item.as_object_mut()
                .unwrap()
                .entry("failed-mapping-behavior")
                .or_insert("reject".into());
            item.as_object_mut()
                .unwrap()
                .entry("always-patch-with-replace")
                .or_insert(false.into());
        }
        m
    });

    // Re-importing the export (same key) is accepted and changes nothing.
    let out = run(&["config", "import", exported.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = run(&["config", "export"]);
    assert_eq!(text(&again.stdout), body);

    // An invalid file is refused as a whole.
    let mut broken = original.clone();
    broken["scim-servers"][0]["base-url"] = "https://elsewhere.example/v2".into();
    broken["sync-pipes"][0]["worker-count"] = 0.into();
    let broken_path = write(files, "broken.json", &broken.to_string());
    let out = run(&["config", "import", broken_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("worker-count = \"0\": must be between 1 and 64"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("nothing imported"));
    assert_eq!(
        text(&run(&["config", "export"]).stdout),
        body,
        "a refused import must change nothing"
    );
}

#[test]
fn sqlite_import_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_export_cycle(&data, &[], dir.path());
    assert!(data.join("scimsync.db").exists() && data.join("secret.key").exists());

    // Another instance (another key) cannot open the sealed secrets: refused, nothing imported.
    let other = dir.path().join("other");
    let out = scimsync(
        &other,
        &[
            "config",
            "import",
            dir.path().join("exported.json").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("LDAP sync source \"Corporate LDAP\": bind-password: sealed value cannot be opened with this instance's key file"), "{err}");
    let out = scimsync(&other, &["config", "export"]);
    assert_eq!(
        text(&out.stdout).trim(),
        "{\n  \"global\": {},\n  \"ldap-sources\": [],\n  \"scim-servers\": [],\n  \"attribute-mappings\": [],\n  \"endpoint-mappings\": [],\n  \"scim-destinations\": [],\n  \"sync-pipes\": [],\n  \"sync-classes\": []\n}"
    );
}

#[test]
fn postgres_import_export_round_trip() {
    let admin = std::env::var("SCIMSYNC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("scimsync_cli_{}", std::process::id());
    let psql = |sql: &str| {
        let out = Command::new("psql")
            .args([admin.as_str(), "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql {sql}: {}", text(&out.stderr));
    };
    psql(&format!("DROP DATABASE IF EXISTS {name}"));
    psql(&format!("CREATE DATABASE {name}"));
    let url = url_with_db(&admin, &name);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("pg.key");
    let flags = [
        "--database-url",
        url.as_str(),
        "--key-file",
        key.to_str().unwrap(),
    ];
    import_export_cycle(&dir.path().join("unused"), &flags, dir.path());
    assert!(
        !dir.path().join("unused").exists(),
        "with a database URL no data directory is needed"
    );
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

fn url_with_db(admin: &str, db: &str) -> String {
    match admin.rfind('/') {
        Some(i) => format!("{}/{db}", &admin[..i]),
        None => panic!("unexpected PostgreSQL URL {admin}"),
    }
}

#[test]
fn bad_arguments_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = scimsync(dir.path(), &["config", "import"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("required arguments were not provided"));
    let out = scimsync(
        dir.path(),
        &["--database-url", "mysql://x", "config", "export"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unsupported database URL \"mysql://x\""),
        "{}",
        text(&out.stderr)
    );
    let out = scimsync(dir.path(), &["serve", "--listen", "not-an-address"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'not-an-address' for '--listen <LISTEN>'"),
        "{}",
        text(&out.stderr)
    );
}

/// Every subcommand whose reader goes away (`| head` after a line, `| less` quit early) ends
/// quietly: no panic, no backtrace — the exit status a broken pipe gives (141), or the
/// command's own when it printed nothing.
#[test]
fn every_subcommand_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let example = write(dir.path(), "example.json", EXAMPLE);
    let example = example.to_str().unwrap();
    assert!(
        scimsync(&data, &["config", "import", example])
            .status
            .success()
    );
    let pipe = "LDAP to SCIM";
    let dn = "uid=jdoe,ou=people,dc=example,dc=com";
    let commands: &[&[&str]] = &[
        &["--help"],
        &["--version"],
        &["config", "export"],
        &["config", "validate", example],
        &["realtime-sync", "status"],
        &["rejections", "list"],
        &["deletes", "list"],
        &["log"],
        &["users", "list"],
        &["resync", "--pipe", pipe, "--dry-run"],
        &["preview", "--pipe", pipe, "--dn", dn],
        &["realtime-sync", "stop", "--pipe", pipe],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimsync"))
            .env_remove("SCIMSYNC_DATABASE_URL")
            .env("SCIMSYNC_DATA_DIR", &data)
            .env("RUST_BACKTRACE", "1")
            .args(*args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before the first line is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{args:?}: {stderr}"
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 141)),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}
