//! Realtime sync as an admin runs it: `scimsync resync`, `realtime-sync set-startpoint` and
//! `start` on the command line, `scimsync serve` doing the work — killed with SIGKILL in the
//! middle of a stream of changes and started again — until the SCIM side equals the LDAP side.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use test_support::*;

const PIPE: &str = "LDAP to SCIM";
const TOKEN: &str = "serve-token";

fn scimsync(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimsync"))
        .env_remove("SCIMSYNC_DATABASE_URL")
        .env_remove("SCIMSYNC_KEY_FILE")
        .env("SCIMSYNC_DATA_DIR", data)
        .args(args)
        .output()
        .expect("run scimsync")
}

fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A `scimsync serve` process, killed when dropped (so a failing test leaves none behind).
struct Served(Child);

impl std::ops::Deref for Served {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `scimsync serve` on a port of its own: the process and the port.
fn serve(data: &Path) -> (Served, u16) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimsync"))
        .env("SCIMSYNC_DATA_DIR", data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, "scimsync serve", &mut child);
    (Served(child), port)
}

/// GETs `path` of the server without a session: the status and the body.
fn get(port: u16, path: &str) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-s",
            "-w",
            "\n%{http_code}",
            &format!("http://127.0.0.1:{port}{path}"),
        ])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or_default();
    (status.to_owned(), body.to_owned())
}

/// The server's metrics as a Prometheus parser reads them: the sum of the samples named
/// `name` whose labels include `labels`.
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("Prometheus text");
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
            _ => f64::NAN,
        })
        .sum()
}

/// What the first server's metrics say once the first changes are in: four adds and three
/// modifies done in realtime, their SCIM requests, the pipe running.
fn check_metrics(port: u16) {
    assert_eq!(get(port, "/healthz"), ("200".into(), "ok\n".into()));
    assert_eq!(get(port, "/readyz"), ("200".into(), "ready\n".into()));
    let changes = |text: &str, outcome| {
        metric(
            text,
            "scimsync_changes_total",
            &[("pipe", PIPE), ("phase", "realtime"), ("outcome", outcome)],
        )
    };
    // The resources are there; the changes are counted just after.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let (status, text) = get(port, "/metrics");
        assert_eq!(status, "200", "{text}");
        if changes(&text, "created") + changes(&text, "modified") >= 7.0
            || Instant::now() > deadline
        {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let changes = |outcome| changes(&text, outcome);
    assert_eq!(changes("created"), 4.0, "{text}");
    assert_eq!(changes("modified"), 3.0, "{text}");
    assert_eq!(changes("rejected"), 0.0, "{text}");
    // The creates went as POSTs: each alone (201), or several together in a POST /Bulk (200)
    // when they reach the pipe at once.
    let posts = |status| {
        metric(
            &text,
            "scimsync_scim_requests_total",
            &[("method", "POST"), ("status", status)],
        )
    };
    assert!(posts("201") + posts("200") >= 1.0, "{text}");
    assert!(posts("201") <= 4.0, "{text}");
    assert_eq!(
        metric(
            &text,
            "scimsync_pipe_state",
            &[("pipe", PIPE), ("state", "running")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "scimsync_rejections_open", &[("pipe", PIPE)]),
        0.0,
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "scimsync_changelog_lag_seconds{{pipe=\"{PIPE}\"}} "
        )),
        "{text}"
    );
}

/// `scimsync config import` of `config`, written beside the data directory first (`global`,
/// e.g. `--database-url …`, before the command).
fn import_config(data: &Path, config: &serde_json::Value, global: &[&str]) {
    let file = data.with_file_name("config.json");
    std::fs::write(&file, config.to_string()).unwrap();
    let file = file.to_str().unwrap();
    let args: Vec<&str> = global
        .iter()
        .copied()
        .chain(["config", "import", file])
        .collect();
    ok(scimsync(data, &args));
}

/// Steps 10, 9 and 11 on the command line: a resync of the pipe, its startpoint at the end of
/// the changelog, realtime sync started (`global`, e.g. `--database-url …`, before each).
fn resync_and_start(data: &Path, global: &[&str]) {
    let steps: [&[&str]; 3] = [
        &["resync", "--pipe", PIPE],
        &[
            "realtime-sync",
            "set-startpoint",
            "--pipe",
            PIPE,
            "--end-of-changelog",
        ],
        &["realtime-sync", "start", "--pipe", PIPE],
    ];
    for step in steps {
        let args: Vec<&str> = global.iter().chain(step).copied().collect();
        ok(scimsync(data, &args));
    }
}

/// A stream of adds (`<prefix>0`, `<prefix>1`, …) to the slapd on a port, one every `every`,
/// from a thread of its own until stopped.
struct Stream {
    going: std::sync::Arc<std::sync::atomic::AtomicBool>,
    writer: std::thread::JoinHandle<usize>,
}

impl Stream {
    fn start(ldap_port: u16, prefix: &'static str, every: Duration) -> Stream {
        use std::sync::atomic::{AtomicBool, Ordering};
        let going = std::sync::Arc::new(AtomicBool::new(true));
        let writer = {
            let going = going.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while going.load(Ordering::Relaxed) {
                    ldap_modify_as_manager(ldap_port, &person(&format!("{prefix}{n}"), "Stream"));
                    n += 1;
                    std::thread::sleep(every);
                }
                n
            })
        };
        Stream { going, writer }
    }

    /// Stops it: how many entries it added.
    fn stop(self) -> usize {
        self.going
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.writer.join().unwrap()
    }
}

fn person(uid: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {sn}\n\n"
    )
}

fn wait_until_equal(ldap_port: u16, scim: &Scim2Server, data: &Path) {
    let want = ldap_people(ldap_port);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = scim_people(&scim.base_url(), TOKEN);
        if got == want {
            return;
        }
        if Instant::now() > deadline {
            let status = ok(scimsync(data, &["realtime-sync", "status"]));
            panic!("SCIM differs from LDAP\nLDAP {want:?}\nSCIM {got:?}\n{status}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn run(ldap_port: u16, flavour: &str, modify: impl Fn(&str)) {
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = fixture_config(&format!("127.0.0.1:{ldap_port}"), &scim.base_url(), TOKEN);
    config["ldap-sources"][0]["changelog"] = flavour.into();
    config["sync-classes"][0]["include-base-dns"] = serde_json::json!([]);
    import_config(&data, &config, &[]);

    modify(
        &(0..10)
            .map(|i| person(&format!("p{i}"), "Before"))
            .collect::<String>(),
    );
    ok(scimsync(&data, &["resync", "--pipe", PIPE]));
    let refused = scimsync(&data, &["realtime-sync", "start", "--pipe", PIPE]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no startpoint is set"));
    let set = ok(scimsync(
        &data,
        &[
            "realtime-sync",
            "set-startpoint",
            "--pipe",
            PIPE,
            "--end-of-changelog",
        ],
    ));
    assert!(set.contains("end of changelog"), "{set}");
    ok(scimsync(&data, &["realtime-sync", "start", "--pipe", PIPE]));

    let (mut server, port) = serve(&data);
    modify(&((0..4).map(|i| person(&format!("n{i}"), "New")).collect::<String>()
        + &(0..3).map(|i| format!("dn: uid=p{i},ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: Changed\n\n")).collect::<String>()));
    wait_until_equal(ldap_port, &scim, &data);
    check_metrics(port);

    // SIGKILL in the middle: changes keep coming while nothing runs.
    server.kill().unwrap();
    server.wait().unwrap();
    modify(&format!(
        "dn: uid=p3,ou=people,{SUFFIX}\nchangetype: modrdn\nnewrdn: uid=p3renamed\ndeleteoldrdn: 1\n\n\
         dn: uid=p4,ou=people,{SUFFIX}\nchangetype: modrdn\nnewrdn: uid=p4\ndeleteoldrdn: 1\nnewsuperior: ou=groups,{SUFFIX}\n\n\
         dn: uid=p5,ou=people,{SUFFIX}\nchangetype: delete\n\n\
         dn: uid=n0,ou=people,{SUFFIX}\nchangetype: delete\n\n"
    ));
    let (mut server, _) = serve(&data);
    wait_until_equal(ldap_port, &scim, &data);

    std::thread::sleep(Duration::from_millis(1500));
    let status = ok(scimsync(
        &data,
        &["realtime-sync", "status", "--pipe", PIPE],
    ));
    assert!(
        status.contains(&format!("{PIPE}: started")) && status.contains("state        running"),
        "{status}"
    );
    assert!(status.contains("rejected 0)"), "{status}");
    ok(scimsync(&data, &["realtime-sync", "stop", "--pipe", PIPE]));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = ok(scimsync(
            &data,
            &["realtime-sync", "status", "--pipe", PIPE],
        ));
        if status.contains("state        stopped") {
            assert!(status.contains(&format!("{PIPE}: stopped")), "{status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the running server did not stop the pipe:\n{status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn openldap_realtime_survives_kill_9_of_the_server() {
    let slapd = Slapd::start();
    run(slapd.port, "openldap-accesslog", |ldif| slapd.modify(ldif));
}

#[test]
fn ds389_realtime_survives_kill_9_of_the_server() {
    let ds = Ds389::start();
    run(ds.port, "draft-good", |ldif| ds.modify(ldif));
}

#[test]
fn set_startpoint_arguments_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = scimsync(&data, &["realtime-sync", "set-startpoint", "--pipe", "p"]);
    assert_eq!(out.status.code(), Some(2), "one position is required");
    let out = scimsync(
        &data,
        &[
            "realtime-sync",
            "set-startpoint",
            "--pipe",
            "p",
            "--end-of-changelog",
            "--change-number",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "only one position");
    let out = scimsync(
        &data,
        &[
            "realtime-sync",
            "set-startpoint",
            "--pipe",
            "p",
            "--startpoint-time",
            "soon",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--startpoint-time \"soon\" is not a time")
    );
}

/// Deletes beyond a pipe's limit, as an admin handles them on the command line: `scimsync
/// deletes list` shows the held ones, `approve` applies one, `discard` keeps the other's
/// resource.
#[test]
fn held_deletes_are_listed_approved_and_discarded_on_the_command_line() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = fixture_config(&slapd.address(), &scim.base_url(), TOKEN);
    config["ldap-sources"][0]["changelog"] = "openldap-accesslog".into();
    config["sync-pipes"][0]["max-deletes-per-hour"] = 1.into();
    import_config(&data, &config, &[]);
    slapd.modify(
        &(0..3)
            .map(|i| person(&format!("h{i}"), "Held"))
            .collect::<String>(),
    );
    resync_and_start(&data, &[]);
    let (mut server, _) = serve(&data);
    slapd.modify(
        &(0..3)
            .map(|i| format!("dn: uid=h{i},ou=people,{SUFFIX}\nchangetype: delete\n\n"))
            .collect::<String>(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let held = loop {
        let listed = ok(scimsync(
            &data,
            &["deletes", "list", "--pipe", PIPE, "--json"],
        ));
        let held: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
        if held.len() == 2 {
            break held;
        }
        assert!(Instant::now() < deadline, "not held: {listed}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(scim_people(&scim.base_url(), TOKEN).len(), 2);
    let text = ok(scimsync(&data, &["deletes", "list"]));
    assert!(
        text.contains("the pipe's limit of 1 delete(s) per hour"),
        "{text}"
    );
    let (first, second) = (
        held[0]["id"].as_str().unwrap(),
        held[1]["id"].as_str().unwrap(),
    );
    let approved = ok(scimsync(&data, &["deletes", "approve", first]));
    assert!(approved.ends_with(": deleted\n"), "{approved}");
    let discarded = ok(scimsync(&data, &["deletes", "discard", second]));
    assert!(
        discarded.contains("discarded; the resource stays"),
        "{discarded}"
    );
    assert_eq!(
        ok(scimsync(&data, &["deletes", "list"])),
        "No held deletes.\n"
    );
    let kept = held[1]["dn"].as_str().unwrap();
    let kept_uid = kept.trim_start_matches("uid=").split(',').next().unwrap();
    let left = scim_people(&scim.base_url(), TOKEN);
    assert_eq!(left.keys().collect::<Vec<_>>(), [kept_uid], "{left:?}");
    // --all needs the pipe; an unknown id is named.
    let refused = scimsync(&data, &["deletes", "approve", "--all"]);
    assert_eq!(refused.status.code(), Some(2));
    let unknown = scimsync(&data, &["deletes", "approve", "no-such-id"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("there is no held delete no-such-id")
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Signs in at the console as `username` (the sign-in form, posted from the console's own
/// origin): the session cookie.
fn sign_in(port: u16, username: &str, password: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-D", "-"])
        .args(["-H", &format!("Origin: http://127.0.0.1:{port}")])
        .args(["--data-urlencode", &format!("username={username}")])
        .args(["--data-urlencode", &format!("password={password}")])
        .args(["--data-urlencode", "next=/"])
        .arg(format!("http://127.0.0.1:{port}/login"))
        .output()
        .expect("curl");
    let headers = String::from_utf8_lossy(&out.stdout).into_owned();
    headers
        .lines()
        .find_map(|l| {
            let l = l
                .strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))?;
            l.split(';')
                .next()
                .filter(|c| c.starts_with("scimsync_session="))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no session for {username}:\n{headers}"))
}

/// GETs `path` with a session cookie: the status and the body.
fn get_as(port: u16, cookie: &str, path: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(["-H", &format!("Cookie: {cookie}")])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or_default();
    (status.to_owned(), body.to_owned())
}

/// A password the SCIM service refuses — too short, and the refusal quotes it back — is
/// kept masked wherever the rejection is: the store's files, `scimsync rejections` and `log`,
/// the console's pages and exports as a viewer sees them, and the server's own output. The
/// request goes first in a Bulk request (refused whole), then alone.
#[test]
fn a_refused_password_is_kept_nowhere_in_clear() {
    let clear = "Sh0rt-pw";
    let ds = Ds389::start();
    let scim = Scim2Server::start(TOKEN);
    let policy = PasswordPolicyProxy::start(scim.port, 12);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = fixture_config(&ds.address(), &policy.base_url(), TOKEN);
    config["ldap-sources"][0]["changelog"] = "draft-good".into();
    config["attribute-mappings"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "name": "Password", "scim-attribute-name": "password",
            "attribute-usage": ["create-during-realtime-sync", "update-during-realtime-sync"],
            "syntax": { "type": "string", "ldap-attribute": "userPassword", "single-valued": true }
        }));
    config["endpoint-mappings"][0]["attribute-mappings"]
        .as_array_mut()
        .unwrap()
        .push("Password".into());
    import_config(&data, &config, &[]);
    ds.modify(&person("pat", "First"));
    resync_and_start(&data, &[]);
    let viewer_password = "viewer password for the test";
    let added = Command::new(env!("CARGO_BIN_EXE_scimsync"))
        .env("SCIMSYNC_DATA_DIR", &data)
        .env("SCIMSYNC_USER_PASSWORD", viewer_password)
        .args(["users", "add", "watcher", "--role", "viewer"])
        .output()
        .unwrap();
    ok(added);

    let port = free_port();
    let output = dir.path().join("serve.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimsync"))
        .env("SCIMSYNC_DATA_DIR", &data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::fs::File::create(&output).unwrap())
        .stderr(std::fs::File::create(dir.path().join("serve.err")).unwrap())
        .spawn()
        .unwrap();
    wait_for_port(port, "scimsync serve", &mut child);
    let _server = Served(child);
    ds.modify(&format!(
        "dn: uid=pat,ou=people,{SUFFIX}\nchangetype: modify\nreplace: userPassword\nuserPassword: {clear}\n-\nreplace: sn\nsn: Second\n\n"
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    let listed = loop {
        let listed = ok(scimsync(&data, &["rejections", "list", "--pipe", PIPE]));
        if listed.contains("uid=pat,") {
            break listed;
        }
        if Instant::now() > deadline {
            let status = ok(scimsync(&data, &["realtime-sync", "status"]));
            let log = ok(scimsync(&data, &["log"]));
            let err = std::fs::read_to_string(dir.path().join("serve.err")).unwrap_or_default();
            panic!("no rejection for pat: {listed}\n{status}\n{log}\n{err}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // The refusal is kept, with what the service said — its quote of the password masked.
    assert!(listed.contains("is shorter than 12 characters"), "{listed}");
    let id = listed.split_whitespace().next().unwrap().to_owned();
    let shown = ok(scimsync(&data, &["rejections", "show", &id]));
    assert!(shown.contains("\"path\": \"password\""), "{shown}");
    assert!(shown.contains("***"), "{shown}");
    let mut outputs = vec![
        ("rejections list".to_owned(), listed),
        ("rejections show".to_owned(), shown),
        (
            "log".to_owned(),
            ok(scimsync(&data, &["log", "--pipe", PIPE])),
        ),
        (
            "log --json".to_owned(),
            ok(scimsync(&data, &["log", "--pipe", PIPE, "--json"])),
        ),
    ];
    let viewer = sign_in(port, "watcher", viewer_password);
    for page in [
        "/",
        "/rejections",
        &format!("/rejections?pipe={}", PIPE.replace(' ', "%20")),
        "/step/10",
        "/step/11",
        "/log",
        &format!("/pipes/{}", PIPE.replace(' ', "%20")),
        "/api/log?format=csv",
        "/api/log?format=json",
    ] {
        let (status, body) = get_as(port, &viewer, page);
        assert_eq!(status, "200", "{page}: {body}");
        outputs.push((format!("page {page}"), body));
    }
    // The live feeds, as long as a page would listen for a few seconds.
    for feed in [
        format!("/api/realtime/events?pipe={}", PIPE.replace(' ', "%20")),
        "/api/overview/events".to_owned(),
    ] {
        let out = Command::new("curl")
            .args([
                "-s",
                "-N",
                "--max-time",
                "3",
                "-H",
                &format!("Cookie: {viewer}"),
            ])
            .arg(format!("http://127.0.0.1:{port}{feed}"))
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("data:"), "{feed}: {text}");
        outputs.push((format!("feed {feed}"), text));
    }
    let (_, rejections_page) = get_as(port, &viewer, "/rejections");
    assert!(
        rejections_page.contains("is shorter than 12 characters"),
        "the viewer sees the rejection"
    );
    // The store's files: the database, its write-ahead log, the key file.
    for file in std::fs::read_dir(&data).unwrap() {
        let file = file.unwrap().path();
        let bytes = std::fs::read(&file).unwrap();
        outputs.push((
            format!("file {}", file.display()),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for name in ["serve.out", "serve.err"] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        outputs.push((name.to_owned(), text));
    }
    for (place, text) in &outputs {
        assert!(!text.contains(clear), "the password is in clear in {place}");
    }
}

/// PostgreSQL (a server of the test's own) stops for 20 s while changes keep coming:
/// readiness says so within 2 s, the pipe waits for the store (its page's live feed, opened
/// before, shows it), a sign-in is told its password could not be checked; once the store is
/// back, everything made meanwhile arrives within 10 s — nothing lost, nothing created twice,
/// nothing rejected.
#[test]
fn a_store_outage_pauses_the_pipe_and_loses_nothing() {
    let mut pg = PrivatePostgres::start();
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = pg.url();
    let cli = |args: &[&str]| {
        let mut all = vec!["--database-url", db.as_str()];
        all.extend_from_slice(args);
        ok(scimsync(&data, &all))
    };
    let mut config = fixture_config(&slapd.address(), &scim.base_url(), TOKEN);
    config["ldap-sources"][0]["changelog"] = "openldap-accesslog".into();
    import_config(&data, &config, &["--database-url", &db]);
    slapd.modify(
        &(0..5)
            .map(|i| person(&format!("p{i}"), "Before"))
            .collect::<String>(),
    );
    resync_and_start(&data, &["--database-url", &db]);

    let admin_password = "the admin password of the outage test";
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimsync"))
        .env("SCIMSYNC_DATA_DIR", &data)
        .env("SCIMSYNC_DATABASE_URL", &db)
        .env("SCIMSYNC_ADMIN_PASSWORD", admin_password)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.err")).unwrap())
        .spawn()
        .unwrap();
    wait_for_port(port, "scimsync serve", &mut child);
    let _server = Served(child);
    let ready = || {
        Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
            ])
            .arg(format!("http://127.0.0.1:{port}/readyz"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    assert_eq!(ready(), "200");
    let admin = sign_in(port, "admin", admin_password);
    // The pipe page's live feed, open through the outage.
    let feed_file = dir.path().join("feed.txt");
    let mut feed = Command::new("curl")
        .args([
            "-s",
            "-N",
            "--max-time",
            "90",
            "-H",
            &format!("Cookie: {admin}"),
        ])
        .arg(format!(
            "http://127.0.0.1:{port}/api/realtime/events?pipe={}",
            PIPE.replace(' ', "%20")
        ))
        .stdout(std::fs::File::create(&feed_file).unwrap())
        .spawn()
        .unwrap();

    // Changes every half second, from before the outage until the store is back.
    let stream = Stream::start(slapd.port, "s", Duration::from_millis(500));
    std::thread::sleep(Duration::from_secs(3));

    pg.stop();
    let stopped = Instant::now();
    loop {
        if ready() == "503" {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(2),
            "/readyz did not say 503 within 2 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let not_ready_after = stopped.elapsed();
    // A sign-in now is not a failed one: the store could not check it.
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "10",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args(["-H", &format!("Origin: http://127.0.0.1:{port}")])
        .args(["--data-urlencode", "username=admin", "--data-urlencode"])
        .arg(format!("password={admin_password}"))
        .arg(format!("http://127.0.0.1:{port}/login"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "503");
    std::thread::sleep(Duration::from_secs(20).saturating_sub(stopped.elapsed()));
    pg.resume();
    let back = Instant::now();
    let streamed = stream.stop();
    assert!(streamed >= 40, "only {streamed} changes were made");

    let want = ldap_people(slapd.port);
    loop {
        if scim_people(&scim.base_url(), TOKEN) == want {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "not caught up 10 s after the store came back:\n{}",
            std::fs::read_to_string(dir.path().join("serve.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let caught_up = back.elapsed();
    println!(
        "store outage: /readyz 503 after {not_ready_after:?}; {streamed} changes; caught up {caught_up:?} after the store came back"
    );
    std::thread::sleep(Duration::from_secs(2));
    let _ = feed.kill();
    let _ = feed.wait();
    let feed_text = std::fs::read_to_string(&feed_file).unwrap();
    assert!(
        feed_text.contains("\"state\":\"waiting-for-store\""),
        "the pipe page never showed it waiting for the store:\n{feed_text}"
    );
    assert!(
        feed_text
            .lines()
            .rfind(|l| l.starts_with("data:"))
            .is_some_and(|l| l.contains("\"state\":\"running\"")),
        "running again at the end:\n{feed_text}"
    );
    // Nothing rejected, each new entry created once.
    let rejections = cli(&["rejections", "list", "--pipe", PIPE]);
    assert!(
        rejections.contains("No open rejected operations"),
        "{rejections}"
    );
    let log = cli(&[
        "log",
        "--pipe",
        PIPE,
        "--outcome",
        "created",
        "--limit",
        "1000",
        "--json",
    ]);
    let mut created: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|c| c["phase"] == "realtime")
        .map(|c| c["dn"].as_str().unwrap().to_owned())
        .collect();
    let count = created.len();
    created.sort();
    created.dedup();
    assert_eq!(count, created.len(), "an entry was created twice");
    assert_eq!(count, streamed, "{created:?}");
}

/// `scimsync store backup` while `serve` runs realtime sync under a stream of changes; the
/// backup and the key file restored into a new data directory: the restored instance goes on
/// from the backup's checkpoint and loses nothing (what came after it is read again).
#[test]
fn a_backup_taken_while_serving_restores_and_resumes() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = fixture_config(&slapd.address(), &scim.base_url(), TOKEN);
    config["ldap-sources"][0]["changelog"] = "openldap-accesslog".into();
    import_config(&data, &config, &[]);
    slapd.modify(
        &(0..5)
            .map(|i| person(&format!("p{i}"), "Before"))
            .collect::<String>(),
    );
    resync_and_start(&data, &[]);
    let (server, _) = serve(&data);

    let stream = Stream::start(slapd.port, "b", Duration::from_millis(300));
    std::thread::sleep(Duration::from_secs(2));
    let backup = dir.path().join("backup.db");
    let said = ok(scimsync(
        &data,
        &["store", "backup", backup.to_str().unwrap()],
    ));
    assert!(said.contains("keep the key file"), "{said}");
    let again = scimsync(&data, &["store", "backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    std::thread::sleep(Duration::from_secs(2));
    drop(server);

    // Restored as the README says: the backup as the database, the key file beside it.
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(&backup, restored.join("scimsync.db")).unwrap();
    std::fs::copy(data.join("secret.key"), restored.join("secret.key")).unwrap();
    let (_server, _) = serve(&restored);
    std::thread::sleep(Duration::from_secs(2));
    stream.stop();
    wait_until_equal(slapd.port, &scim, &restored);
    let status = ok(scimsync(
        &restored,
        &["realtime-sync", "status", "--pipe", PIPE],
    ));
    assert!(status.contains("rejected 0)"), "{status}");
}
