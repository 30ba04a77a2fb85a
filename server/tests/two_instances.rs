//! Two `scimsync serve` instances on one PostgreSQL database: the pipe runs on exactly one;
//! both consoles show where; the one running it is killed with SIGKILL mid-stream and the
//! other takes the pipe over from the stored checkpoint and finishes with the SCIM side equal
//! to the LDAP side.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use test_support::*;

const PIPE: &str = "LDAP to SCIM";
const TOKEN: &str = "two-instances-token";
const ADMIN_PASSWORD: &str = "two instances admin password";

fn admin_url() -> String {
    std::env::var("SCIMSYNC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A scratch PostgreSQL database, dropped at the end.
struct ScratchDb {
    name: String,
}

impl ScratchDb {
    fn new() -> ScratchDb {
        let name = format!("scimsync_two_{}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name}"));
        psql(&format!("CREATE DATABASE {name}"));
        ScratchDb { name }
    }

    fn url(&self) -> String {
        let base = admin_url();
        let (head, _) = base.rsplit_once('/').unwrap();
        format!("{head}/{}", self.name)
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .args([&admin_url(), "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql (apt-get install postgresql-client)");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Shared {
    database_url: String,
    key_file: PathBuf,
}

impl Shared {
    fn command(&self, data: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimsync"));
        cmd.env("SCIMSYNC_DATA_DIR", data)
            .env("SCIMSYNC_DATABASE_URL", &self.database_url)
            .env("SCIMSYNC_KEY_FILE", &self.key_file)
            .env("SCIMSYNC_ADMIN_PASSWORD", ADMIN_PASSWORD);
        cmd
    }

    fn cli(&self, data: &Path, args: &[&str]) -> String {
        let out: Output = self.command(data).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn serve(&self, data: &Path, name: &str, port: u16) -> Child {
        let mut child = self
            .command(data)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--instance-name",
                name,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, &format!("instance {name}"), &mut child);
        child
    }

    /// The instance the status names as running the pipe.
    fn runs_on(&self, data: &Path) -> Option<String> {
        let status = self.cli(data, &["realtime-sync", "status", "--pipe", PIPE]);
        status
            .lines()
            .find_map(|l| l.trim().strip_prefix("runs on"))
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.starts_with("no instance"))
    }
}

/// The console's step 11 page on `port` as a signed-in admin (curl).
fn step_11_page(port: u16) -> String {
    let base = format!("http://127.0.0.1:{port}");
    let login = Command::new("curl")
        .args(["-sS", "-i", "-H", &format!("Origin: {base}")])
        .args([
            "--data",
            &format!(
                "username=admin&password={}",
                ADMIN_PASSWORD.replace(' ', "+")
            ),
        ])
        .arg(format!("{base}/login"))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&login.stdout).into_owned();
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.split(';').next().unwrap().trim().to_owned())
        .unwrap_or_else(|| panic!("no session cookie from {base}:\n{head}"));
    let page = Command::new("curl")
        .args(["-sS", "-H", &format!("Cookie: {cookie}")])
        .arg(format!("{base}/step/11"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&page.stdout).into_owned()
}

fn person(uid: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {sn}\n\n"
    )
}

fn wait_until_equal(slapd: &Slapd, scim: &Scim2Server, why: &str) {
    let want = ldap_people(slapd.port);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = scim_people(&scim.base_url(), TOKEN);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{why}: SCIM differs from LDAP\nLDAP {want:?}\nSCIM {got:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn two_instances_on_postgresql_one_killed_mid_stream_the_other_takes_over() {
    let slapd = Slapd::start();
    let scim = Scim2Server::start(TOKEN);
    let db = ScratchDb::new();
    let dir = tempfile::tempdir().unwrap();
    let shared = Shared {
        database_url: db.url(),
        key_file: dir.path().join("shared.key"),
    };
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    let mut config = fixture_config(&slapd.address(), &scim.base_url(), TOKEN);
    config["sync-classes"][0]["include-base-dns"] = serde_json::json!([]);
    let file = dir.path().join("config.json");
    std::fs::write(&file, config.to_string()).unwrap();
    shared.cli(&data_a, &["config", "import", file.to_str().unwrap()]);
    slapd.modify(
        &(0..10)
            .map(|i| person(&format!("p{i}"), "Before"))
            .collect::<String>(),
    );
    shared.cli(&data_a, &["resync", "--pipe", PIPE]);
    shared.cli(
        &data_a,
        &[
            "realtime-sync",
            "set-startpoint",
            "--pipe",
            PIPE,
            "--end-of-changelog",
        ],
    );
    shared.cli(&data_b, &["realtime-sync", "start", "--pipe", PIPE]);

    let (port_a, port_b) = (free_port(), free_port());
    let mut alpha = Some(shared.serve(&data_a, "alpha", port_a));
    let mut beta = Some(shared.serve(&data_b, "beta", port_b));
    let deadline = Instant::now() + Duration::from_secs(20);
    let holder = loop {
        if let Some(h) = shared.runs_on(&data_a) {
            break h;
        }
        assert!(Instant::now() < deadline, "no instance took the pipe");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(holder == "alpha" || holder == "beta", "{holder}");
    // Both consoles show the pipe and where it runs.
    for port in [port_a, port_b] {
        let page = step_11_page(port);
        assert!(
            page.contains(&format!(r#"data-runs-on="{holder}""#)),
            "console on {port}:\n{page}"
        );
    }

    // First half of the stream, applied by the holder.
    slapd.modify(
        &((0..5).map(|i| person(&format!("n{i}"), "New")).collect::<String>()
            + &(0..3)
                .map(|i| format!("dn: uid=p{i},ou=people,{SUFFIX}\nchangetype: modify\nreplace: sn\nsn: Changed\n\n"))
                .collect::<String>()),
    );
    // Mid-stream: the holder dies while more changes arrive.
    let (victim, survivor, survivor_data) = if holder == "alpha" {
        (&mut alpha, "beta", &data_b)
    } else {
        (&mut beta, "alpha", &data_a)
    };
    let mut victim = victim.take().unwrap();
    victim.kill().unwrap();
    victim.wait().unwrap();
    let killed = Instant::now();
    slapd.modify(&format!(
        "dn: uid=p3,ou=people,{SUFFIX}\nchangetype: modrdn\nnewrdn: uid=p3renamed\ndeleteoldrdn: 1\n\n\
         dn: uid=p4,ou=people,{SUFFIX}\nchangetype: modrdn\nnewrdn: uid=p4\ndeleteoldrdn: 1\nnewsuperior: ou=groups,{SUFFIX}\n\n\
         dn: uid=p5,ou=people,{SUFFIX}\nchangetype: delete\n\n\
         dn: uid=n0,ou=people,{SUFFIX}\nchangetype: delete\n\n"
    ));
    slapd.modify(
        &(5..8)
            .map(|i| person(&format!("n{i}"), "After"))
            .collect::<String>(),
    );

    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        if shared.runs_on(survivor_data).as_deref() == Some(survivor) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{survivor} never took the pipe over"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let takeover = killed.elapsed();
    wait_until_equal(&slapd, &scim, "after the takeover");
    println!(
        "takeover after {:.1} s; caught up after {:.1} s",
        takeover.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );
    assert!(
        takeover <= engine::sync::LEASE_TTL + Duration::from_secs(5),
        "takeover took {takeover:?}"
    );
    let page = step_11_page(if survivor == "alpha" { port_a } else { port_b });
    assert!(
        page.contains(&format!(r#"data-runs-on="{survivor}""#)),
        "{page}"
    );
    let status = shared.cli(survivor_data, &["realtime-sync", "status", "--pipe", PIPE]);
    assert!(status.contains("rejected 0)"), "{status}");

    for mut child in [alpha, beta].into_iter().flatten() {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
