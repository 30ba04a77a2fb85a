//! Real servers for integration tests: OpenLDAP slapd (with the accesslog overlay) and
//! scim2-server, each on a free loopback port in its own temp dir, stopped on drop.
//! A missing server binary fails the test with instructions; nothing is skipped.

mod shuffled_changelog;
pub use shuffled_changelog::{Shape, ShuffledChangelog, req_start};

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// These match scripts/testenv/slapd.sh.
pub const SUFFIX: &str = "dc=example,dc=com";
pub const MANAGER_DN: &str = "cn=Manager,dc=example,dc=com";
pub const MANAGER_PASSWORD: &str = "secret";
pub const SYNC_DN: &str = "cn=sync,dc=example,dc=com";
pub const SYNC_PASSWORD: &str = "syncpass";

/// A port no other server of this test process was given, free when asked. Taken from below
/// Linux's ephemeral range (32768+), so neither the kernel's `bind(0)` for a parallel test nor an
/// outgoing connection can hand the same port to another server while this one starts; the
/// process id spreads concurrent test processes apart.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(389) % COUNT,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..COUNT {
        let port = (FIRST + NEXT.fetch_add(1, Ordering::SeqCst) % COUNT) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + COUNT)
}

/// How long a server may take to listen, unless it loads data first.
const STARTUP: Duration = Duration::from_secs(30);

/// Waits until `child` listens on `port`; fails the test if it exits first or takes over 30 s.
pub fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    wait_for_port_within(port, what, child, STARTUP)
}

/// Waits until `child` listens on `port`; fails if it exits first or takes over `within`.
fn wait_for_port_within(port: u16, what: &str, child: &mut Child, within: Duration) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // The port answers; make sure it is our server and not one that was there first.
            std::thread::sleep(Duration::from_millis(100));
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{what} exited ({status}) although port {port} answers: another process holds it"
                );
            }
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening on port {port}: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not listen on port {port} within {} s",
        within.as_secs()
    );
}

/// Realtime sync of one pipe, running as a task of the test's runtime.
pub struct RealtimeRun {
    pub progress: engine::sync::RealtimeProgress,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RealtimeRun {
    pub fn start(
        store: &engine::store::Store,
        config: &engine::config::Config,
        pipe: &str,
    ) -> RealtimeRun {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let progress = engine::sync::RealtimeProgress::new(pipe);
        let task = {
            let (store, config, progress, pipe) = (
                store.clone(),
                config.clone(),
                progress.clone(),
                pipe.to_owned(),
            );
            tokio::spawn(async move {
                engine::sync::run_realtime(store, config, pipe, stopped, progress)
                    .await
                    .unwrap()
            })
        };
        RealtimeRun {
            progress,
            stop,
            task,
        }
    }

    /// Realtime sync of `pipe` from the end of its changelog as it is now.
    pub async fn from_end(
        store: &engine::store::Store,
        config: &engine::config::Config,
        pipe: &str,
    ) -> RealtimeRun {
        engine::sync::set_startpoint(
            store,
            config,
            pipe,
            engine::startpoint::StartpointRequest::EndOfChangelog,
        )
        .await
        .unwrap();
        RealtimeRun::start(store, config, pipe)
    }

    /// Asks it to stop and waits; the run failing fails the test.
    pub async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap();
    }

    /// Drops the task wherever it is, as `kill -9` would: nothing is shut down cleanly.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// A resync of `pipe` with the default options; its counts.
pub async fn resync_pipe(
    store: &engine::store::Store,
    config: &engine::config::Config,
    pipe: &str,
) -> engine::sync::ResyncCounts {
    engine::sync::run_resync(
        store,
        config,
        pipe,
        &engine::sync::ResyncOptions::default(),
        &engine::sync::ResyncProgress::default(),
        std::sync::Arc::new(()),
    )
    .await
    .unwrap()
}

/// A store in a fresh SQLite file at `path`, with a key that lives only in memory.
pub async fn sqlite_store(path: &Path) -> engine::store::Store {
    engine::store::Store::open(
        &format!("sqlite://{}", path.display()),
        engine::crypto::Cipher::ephemeral(),
    )
    .await
    .unwrap()
}

fn find_binary(env: &str, candidates: &[&str], install_hint: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() && p.exists() {
            return p.to_owned();
        }
        if !p.is_absolute()
            && let Some(found) = std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(c))
                    .find(|f| f.exists())
            })
        {
            return found;
        }
    }
    panic!(
        "{} not found (set {env} or install it: {install_hint})",
        candidates[0]
    );
}

/// A server run by one of scripts/testenv/*.sh: the script prepares `dir` and execs the
/// server in the foreground, so killing the child stops the server.
pub struct ScriptServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
    stop: Stop,
}

/// How a test server is stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The script exec'd a server that dies with its process (slapd, scim2-server).
    Kill,
    /// The server must be asked (nginx: KILL would leave its workers serving; the 389 DS
    /// script stops ns-slapd on TERM).
    Term,
}

impl ScriptServer {
    /// Runs `scripts/testenv/<script> DIR PORT <args…>` and waits until PORT answers.
    fn start(
        script: &str,
        what: &str,
        args: &[String],
        env: &[(&str, String)],
        stop: Stop,
    ) -> ScriptServer {
        Self::launch(script, what, args, env, stop, free_port(), STARTUP)
    }

    /// Like [`ScriptServer::start`] for scripts that prepare the server after it listens:
    /// waits for DIR/ready too, and stops the script with TERM.
    fn start_and_wait_ready(
        script: &str,
        what: &str,
        args: &[String],
        env: &[(&str, String)],
    ) -> ScriptServer {
        let server = Self::launch(script, what, args, env, Stop::Term, free_port(), STARTUP);
        let deadline = Instant::now() + Duration::from_secs(120);
        while !server.dir.path().join("ready").exists() {
            assert!(
                Instant::now() < deadline,
                "{what} did not get ready within 120 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn launch(
        script: &str,
        what: &str,
        args: &[String],
        env: &[(&str, String)],
        stop: Stop,
        port: u16,
        startup: Duration,
    ) -> ScriptServer {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts/testenv")
            .join(script);
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("bash");
        command
            .arg(&path)
            .arg(dir.path())
            .arg(port.to_string())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        wait_for_port_within(port, what, &mut child, startup);
        ScriptServer {
            port,
            dir,
            child,
            stop,
        }
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        if self.stop == Stop::Term {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 389 Directory Server with the Retro Changelog (scripts/testenv/389ds.sh).
pub struct Ds389 {
    pub port: u16,
    _server: ScriptServer,
}

pub const DS389_MANAGER_DN: &str = "cn=Directory Manager";
pub const DS389_MANAGER_PASSWORD: &str = "secret123";

impl Ds389 {
    pub fn start() -> Ds389 {
        Ds389::start_with(&[])
    }

    /// Like [`Ds389::start`], with a Retro Changelog that records no entry id
    /// (no targetUniqueId, as the plugin is by default).
    pub fn start_without_recorded_ids() -> Ds389 {
        Ds389::start_with(&[("SCIMSYNC_389_NO_ENTRY_IDS", "1".to_owned())])
    }

    fn start_with(env: &[(&str, String)]) -> Ds389 {
        find_binary(
            "SCIMSYNC_NS_SLAPD",
            &["/usr/sbin/ns-slapd"],
            "apt-get install --no-install-recommends 389-ds-base",
        );
        let server =
            ScriptServer::start_and_wait_ready("389ds.sh", "389 Directory Server", &[], env);
        Ds389 {
            port: server.port,
            _server: server,
        }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Applies LDIF changes as Directory Manager.
    pub fn modify(&self, ldif: &str) {
        ldap_modify(self.port, DS389_MANAGER_DN, DS389_MANAGER_PASSWORD, ldif)
    }
}

/// Applies LDIF changes to the slapd on `port` as its manager (what [`Slapd::modify`] does,
/// for a thread that does not hold the server).
pub fn ldap_modify_as_manager(port: u16, ldif: &str) {
    ldap_modify(port, MANAGER_DN, MANAGER_PASSWORD, ldif)
}

fn ldap_modify(port: u16, dn: &str, password: &str, ldif: &str) {
    use std::io::Write;
    let mut child = Command::new("ldapmodify")
        .args([
            "-x",
            "-H",
            &format!("ldap://127.0.0.1:{port}"),
            "-D",
            dn,
            "-w",
            password,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ldapmodify (apt-get install ldap-utils)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ldif.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ldapmodify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// OpenLDAP slapd with a main database and an accesslog, holding the suffix, ou=people,
/// ou=groups and the sync user (scripts/testenv/slapd.sh).
pub struct Slapd {
    pub port: u16,
    _server: ScriptServer,
}

impl Slapd {
    pub fn start() -> Slapd {
        Slapd::start_with(None)
    }

    /// Like [`Slapd::start`], with StartTLS on its port and LDAPS on `ldaps_port`, using the
    /// certificate `pki` issued for 127.0.0.1.
    pub fn start_tls(pki: &TestPki, ldaps_port: u16) -> Slapd {
        let tls = format!(
            "{} {} {ldaps_port}",
            pki.server_cert.display(),
            pki.server_key.display()
        );
        let mut server = ScriptServer::start(
            "slapd.sh",
            "slapd",
            &[],
            &[("SCIMSYNC_SLAPD_TLS", tls)],
            Stop::Kill,
        );
        wait_for_port(ldaps_port, "slapd (LDAPS)", &mut server.child);
        Slapd {
            port: server.port,
            _server: server,
        }
    }

    /// Like [`Slapd::start`], bulk-loading the entries of an LDIF file first.
    pub fn start_with(ldif: Option<&Path>) -> Slapd {
        find_binary(
            "SCIMSYNC_SLAPD",
            &["/usr/sbin/slapd"],
            "apt-get install slapd ldap-utils",
        );
        let env: Vec<(&str, String)> = ldif
            .map(|f| ("SCIMSYNC_SLAPD_LDIF", f.display().to_string()))
            .into_iter()
            .collect();
        // A bulk load comes first: a million entries take minutes.
        let startup = if ldif.is_some() {
            Duration::from_secs(1800)
        } else {
            STARTUP
        };
        let server = ScriptServer::launch(
            "slapd.sh",
            "slapd",
            &[],
            &env,
            Stop::Kill,
            free_port(),
            startup,
        );
        Slapd {
            port: server.port,
            _server: server,
        }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Applies LDIF changes as the directory manager with ldapmodify.
    pub fn modify(&self, ldif: &str) {
        ldap_modify(self.port, MANAGER_DN, MANAGER_PASSWORD, ldif)
    }
}

/// scim2-server with the RFC 7643 schemas plus the urn:scimsync:test:2.0:User extension
/// (scripts/testenv/scim2-server.sh).
pub struct Scim2Server {
    pub port: u16,
    _server: ScriptServer,
}

impl Scim2Server {
    pub fn start(token: &str) -> Scim2Server {
        // Where scripts/setup.sh installs it, so the benches run after scripts/test.sh as is.
        let tools = std::env::var_os("SCIMSYNC_TOOLS_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/scimsync")))
            .unwrap_or_default();
        let installed = tools.join("scim2-venv/bin/scim2-server");
        let bin = find_binary(
            "SCIMSYNC_SCIM2_SERVER",
            &[
                "scim2-server",
                &installed.to_string_lossy(),
                "/opt/scim2/bin/scim2-server",
            ],
            "scripts/setup.sh installs it, or python3 -m venv /opt/scim2 && /opt/scim2/bin/pip install scim2-server==0.8.3",
        );
        let env = [("SCIMSYNC_SCIM2_SERVER", bin.display().to_string())];
        let server = ScriptServer::start(
            "scim2-server.sh",
            "scim2-server",
            &[token.to_owned()],
            &env,
            Stop::Kill,
        );
        Scim2Server {
            port: server.port,
            _server: server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }
}

/// A PostgreSQL server of the test's own (initdb into a temporary directory, run as the
/// `postgres` user when the test runs as root), which the test may stop and start again on
/// the same port and data — a store outage that touches no other test's database.
pub struct PrivatePostgres {
    pub port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
    server: Option<Child>,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server (apt-get install postgresql)")
            .filter_map(|d| d.ok().map(|d| d.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("initdb under /usr/lib/postgresql/*/bin");
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        Self::as_postgres_owned(dir.path());
        let out = Self::as_postgres(&bin.join("initdb"))
            .args([
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ])
            .stdout(Stdio::null())
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = PrivatePostgres {
            port: free_port(),
            dir,
            bin,
            server: None,
        };
        pg.resume();
        pg
    }

    /// `postgres://…` for its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (a fast shutdown: connections are cut).
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = Command::new("kill")
                .args(["-INT", &server.id().to_string()])
                .status();
            let _ = server.wait();
        }
    }

    /// Starts the server again on the same port and data; returns once it answers.
    pub fn resume(&mut self) {
        let data = self.dir.path().join("data");
        let mut child = Self::as_postgres(&self.bin.join("postgres"))
            .args(["-D", data.to_str().unwrap(), "-p", &self.port.to_string()])
            .args(["-k", self.dir.path().to_str().unwrap()])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres");
        wait_for_port(self.port, "PostgreSQL", &mut child);
        self.server = Some(child);
    }

    /// `program`, run as the `postgres` user when this process is root (PostgreSQL refuses
    /// to run as root); `setpriv` execs it, so its process id is the server's.
    fn as_postgres(program: &Path) -> Command {
        if is_root() {
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
                .arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn as_postgres_owned(dir: &Path) {
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown {}", dir.display());
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// A small disk of the test's own (a tmpfs mounted on a temporary directory; the tests run as
/// root), to fill up: what a store does when its disk is full.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    pub fn mount(megabytes: u32) -> SmallDisk {
        assert!(
            is_root(),
            "mounting a tmpfs needs root (the tests run as root here)"
        );
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "mount -t tmpfs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left with a file, `filler`; removing it frees the room again.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        // Whole blocks, then what still fits byte by byte.
        while file.write_all(&block).is_ok() {}
        while file.write_all(&[0]).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A SCIM service's password policy in front of a SCIM server: writes setting a password
/// shorter than `min_length` are refused with 400, the refusal quoting the password back
/// (scripts/testenv/scim-password-policy.py).
pub struct PasswordPolicyProxy {
    pub port: u16,
    _server: ScriptServer,
}

impl PasswordPolicyProxy {
    pub fn start(upstream_port: u16, min_length: usize) -> PasswordPolicyProxy {
        let args = [upstream_port.to_string(), min_length.to_string()];
        let server = ScriptServer::start(
            "scim-password-policy.sh",
            "the password policy proxy",
            &args,
            &[],
            Stop::Kill,
        );
        PasswordPolicyProxy {
            port: server.port,
            _server: server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }
}

/// nginx in front of a SCIM server, answering 429 + `Retry-After: 1` above `rate` requests/s
/// (scripts/testenv/nginx-ratelimit.sh).
pub struct RateLimitingProxy {
    pub port: u16,
    server: ScriptServer,
}

impl RateLimitingProxy {
    pub fn start(upstream_port: u16, rate: u32) -> RateLimitingProxy {
        Self::start_on(free_port(), upstream_port, rate)
    }

    /// On a given port: to bring a stopped proxy back where clients expect it.
    pub fn start_on(port: u16, upstream_port: u16, rate: u32) -> RateLimitingProxy {
        find_binary(
            "SCIMSYNC_NGINX",
            &["/usr/sbin/nginx"],
            "apt-get install nginx-light",
        );
        let args = [upstream_port.to_string(), rate.to_string()];
        let server = ScriptServer::launch(
            "nginx-ratelimit.sh",
            "nginx",
            &args,
            &[],
            Stop::Term,
            port,
            STARTUP,
        );
        RateLimitingProxy {
            port: server.port,
            server,
        }
    }

    /// How many requests nginx answered with this status.
    pub fn count_status(&self, status: u16) -> usize {
        count_status(&self.server, status)
    }
}

/// Requests an nginx test server answered with `status`, from its access log.
fn count_status(server: &ScriptServer, status: u16) -> usize {
    let log = std::fs::read_to_string(server.dir.path().join("access.log")).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains(&format!("\" {status} ")))
        .count()
}

/// nginx with HTTP Basic in front of a SCIM server and a static OAuth 2.0 token endpoint
/// (scripts/testenv/nginx-auth.sh).
pub struct AuthProxy {
    pub port: u16,
    server: ScriptServer,
}

impl AuthProxy {
    pub fn start(
        upstream: &Scim2Server,
        token: &str,
        user: &str,
        password: &str,
        client_id: &str,
        client_secret: &str,
    ) -> AuthProxy {
        Self::start_on(
            free_port(),
            upstream,
            token,
            user,
            password,
            client_id,
            client_secret,
        )
    }

    /// On a given port: to bring a stopped token endpoint back where clients expect it.
    pub fn start_on(
        port: u16,
        upstream: &Scim2Server,
        token: &str,
        user: &str,
        password: &str,
        client_id: &str,
        client_secret: &str,
    ) -> AuthProxy {
        find_binary(
            "SCIMSYNC_NGINX",
            &["/usr/sbin/nginx"],
            "apt-get install nginx-light",
        );
        let args = [
            upstream.port.to_string(),
            token.into(),
            user.into(),
            password.into(),
            client_id.into(),
            client_secret.into(),
        ];
        let server = ScriptServer::launch(
            "nginx-auth.sh",
            "nginx",
            &args,
            &[],
            Stop::Term,
            port,
            STARTUP,
        );
        AuthProxy {
            port: server.port,
            server,
        }
    }

    /// Requests made through `/recorded/`, one line each: method, path, body (JSON-escaped).
    pub fn recorded_requests(&self) -> String {
        std::fs::read_to_string(self.server.dir.path().join("requests.log")).unwrap_or_default()
    }
}

/// nginx in front of a SCIM server that fails chosen entries (scripts/testenv/nginx-faults.sh):
/// while poisoned, every request naming "poison" answers 500; a search naming "noresources"
/// answers a ListResponse without Resources.
pub struct FaultProxy {
    pub port: u16,
    server: ScriptServer,
}

impl FaultProxy {
    pub fn start(upstream_port: u16) -> FaultProxy {
        find_binary(
            "SCIMSYNC_NGINX",
            &["/usr/sbin/nginx"],
            "apt-get install nginx-light",
        );
        let args = [upstream_port.to_string()];
        let server = ScriptServer::start("nginx-faults.sh", "nginx", &args, &[], Stop::Term);
        FaultProxy {
            port: server.port,
            server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }

    /// Turns the 500s for "poison" on or off.
    pub fn poison(&self, on: bool) {
        let flag = self.server.dir.path().join("poison");
        if on {
            std::fs::write(flag, "").unwrap();
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// How many requests nginx answered with this status.
    pub fn count_status(&self, status: u16) -> usize {
        count_status(&self.server, status)
    }
}

/// nginx in front of a SCIM server that shapes what it offers for Bulk and listing
/// (scripts/testenv/nginx-bulk.sh); every request is logged.
pub struct ShapingProxy {
    pub port: u16,
    server: ScriptServer,
}

/// What a [`ShapingProxy`] changes.
pub enum ServiceShape {
    /// Nothing: it only logs.
    Pass,
    /// 413 for a Bulk request body over this many kilobytes.
    BulkBodyAtMost(u32),
    /// No Bulk in the ServiceProviderConfig, and 501 for /Bulk.
    NoBulk,
    /// A listing's first page holds at most this many resources; later pages are empty.
    CappedList(u32),
}

impl ShapingProxy {
    pub fn start(upstream_port: u16, shape: ServiceShape) -> ShapingProxy {
        find_binary(
            "SCIMSYNC_NGINX",
            &["/usr/sbin/nginx"],
            "apt-get install nginx-light",
        );
        let mut args = vec![upstream_port.to_string()];
        args.extend(match shape {
            ServiceShape::Pass => vec!["pass".to_owned()],
            ServiceShape::BulkBodyAtMost(kb) => vec!["max-body".to_owned(), kb.to_string()],
            ServiceShape::NoBulk => vec!["no-bulk".to_owned()],
            ServiceShape::CappedList(n) => vec!["capped-list".to_owned(), n.to_string()],
        });
        let server = ScriptServer::start("nginx-bulk.sh", "nginx", &args, &[], Stop::Term);
        ShapingProxy {
            port: server.port,
            server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }

    /// Requests logged whose request line starts with `start` (e.g. `POST /v2/Bulk`), and
    /// of those the ones answered with `status` (any status when `None`).
    pub fn count(&self, start: &str, status: Option<u16>) -> usize {
        let log =
            std::fs::read_to_string(self.server.dir.path().join("access.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains(&format!("\"{start}")))
            .filter(|l| status.is_none_or(|s| l.contains(&format!("\" {s} "))))
            .count()
    }
}

/// A test certificate authority and a server certificate it issued for 127.0.0.1 (openssl).
pub struct TestPki {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    _dir: tempfile::TempDir,
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl (apt-get install openssl)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=scimsync test CA",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            p("ext.cnf"),
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "ext.cnf",
        ]);
        // slapd may run as another user: the files must be readable.
        for f in ["ca.pem", "server.pem", "server.key"] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p(f), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        TestPki {
            ca_cert: p("ca.pem"),
            server_cert: p("server.pem"),
            server_key: p("server.key"),
            _dir: dir,
        }
    }
}

/// nginx serving HTTPS with a [`TestPki`] certificate in front of a plain-HTTP server.
pub struct TlsProxy {
    pub port: u16,
    _server: ScriptServer,
}

impl TlsProxy {
    pub fn start(upstream_port: u16, pki: &TestPki) -> TlsProxy {
        let args = [
            upstream_port.to_string(),
            pki.server_cert.display().to_string(),
            pki.server_key.display().to_string(),
        ];
        let server = ScriptServer::start("nginx-tls.sh", "nginx", &args, &[], Stop::Term);
        TlsProxy {
            port: server.port,
            _server: server,
        }
    }
}

/// An entry as ldapsearch printed it: DN, and values by lower-cased attribute name.
pub type LdifEntry = (String, std::collections::BTreeMap<String, Vec<String>>);

/// Entries under `base` matching `filter`, read as the sync user (both test servers have it).
pub fn ldap_search(port: u16, base: &str, filter: &str, attrs: &[&str]) -> Vec<LdifEntry> {
    use base64::Engine as _;
    let out = Command::new("ldapsearch")
        .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-E", "pr=500/noprompt"])
        .args([
            "-H",
            &format!("ldap://127.0.0.1:{port}"),
            "-D",
            SYNC_DN,
            "-w",
            SYNC_PASSWORD,
        ])
        .args(["-b", base, filter])
        .args(attrs)
        .output()
        .expect("ldapsearch (apt-get install ldap-utils)");
    assert!(
        out.status.success(),
        "ldapsearch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut entries = Vec::new();
    for block in text.split("\n\n") {
        let mut dn = String::new();
        let mut values: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for line in block.lines() {
            let (name, value) = if let Some((n, b64)) = line.split_once(":: ") {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                (n, String::from_utf8_lossy(&raw).into_owned())
            } else if let Some((n, v)) = line.split_once(": ") {
                (n, v.to_owned())
            } else {
                continue;
            };
            if name == "dn" {
                dn = value;
            } else {
                values
                    .entry(name.to_ascii_lowercase())
                    .or_default()
                    .push(value);
            }
        }
        if !dn.is_empty() {
            entries.push((dn, values));
        }
    }
    entries
}

/// `ldapsearch` as the sync user, paged by 500, unwrapped: the LDIF it prints. Panics with
/// ldapsearch's own message when it fails.
pub fn ldapsearch_as_sync_user(port: u16, base: &str, filter: &str, attrs: &[&str]) -> String {
    let out = ldapsearch_command(port, base, filter, attrs)
        .output()
        .expect("ldapsearch (apt-get install ldap-utils)");
    assert!(
        out.status.success(),
        "ldapsearch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The same search, its answer read as it comes and not kept (benchmarks of large
/// directories): how many entries it returned.
pub fn count_as_sync_user(port: u16, base: &str, filter: &str, attrs: &[&str]) -> u64 {
    use std::io::BufRead;
    let mut child = ldapsearch_command(port, base, filter, attrs)
        .stdout(Stdio::piped())
        .spawn()
        .expect("ldapsearch (apt-get install ldap-utils)");
    let out = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut entries = 0;
    for line in out.split(b'\n') {
        if line.expect("ldapsearch output").starts_with(b"dn: ") {
            entries += 1;
        }
    }
    let status = child.wait().expect("ldapsearch");
    assert!(status.success(), "ldapsearch: {status}");
    entries
}

fn ldapsearch_command(port: u16, base: &str, filter: &str, attrs: &[&str]) -> Command {
    let mut command = Command::new("ldapsearch");
    command
        .args(["-x", "-LLL", "-o", "ldif-wrap=no"])
        .args(["-H", &format!("ldap://127.0.0.1:{port}")])
        .args(["-D", SYNC_DN, "-w", SYNC_PASSWORD])
        .args(["-b", base, "-E", "pr=500/noprompt", filter])
        .args(attrs);
    command
}

/// uid → sn of every inetOrgPerson under the suffix, read as the sync user.
pub fn ldap_people(port: u16) -> std::collections::BTreeMap<String, String> {
    let text = ldapsearch_as_sync_user(port, SUFFIX, "(objectClass=inetOrgPerson)", &["uid", "sn"]);
    let mut people = std::collections::BTreeMap::new();
    for block in text.split("\n\n") {
        let value = |attr: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{attr}: ")))
                .unwrap_or_default()
                .to_owned()
        };
        if !value("uid").is_empty() {
            people.insert(value("uid"), value("sn"));
        }
    }
    people
}

/// Every user in a SCIM service, as it answers them.
pub fn scim_users(base_url: &str, token: &str) -> Vec<serde_json::Value> {
    let out = Command::new("curl")
        .args([
            "-sf",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("{base_url}/Users?count=1000"),
        ])
        .output()
        .expect("curl");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    body["Resources"].as_array().cloned().unwrap_or_default()
}

/// userName → name.familyName of every user in a SCIM service.
pub fn scim_people(base_url: &str, token: &str) -> std::collections::BTreeMap<String, String> {
    scim_users(base_url, token)
        .iter()
        .map(|u| {
            (
                u["userName"].as_str().unwrap_or_default().to_owned(),
                u["name"]["familyName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// The sync configuration in tests/fixtures/resync-config.json (users with every mapping type),
/// pointed at these servers.
pub fn fixture_config(ldap_address: &str, scim_base_url: &str, token: &str) -> serde_json::Value {
    let text = include_str!("../../engine/tests/fixtures/resync-config.json")
        .replace("${LDAP}", ldap_address)
        .replace("${SCIM}", scim_base_url)
        .replace("${TOKEN}", token);
    serde_json::from_str(&text).expect("the fixture configuration is JSON")
}

/// The rejection recorded for the entry whose DN starts with `dn_prefix` (e.g. `uid=ann`).
/// Panics, showing the results, when there is no such entry or it was not rejected.
pub fn rejection_of<'a>(
    results: &'a [engine::sync::EntryResult],
    dn_prefix: &str,
) -> &'a engine::sync::Rejection {
    let Some(result) = results.iter().find(|r| r.dn.starts_with(dn_prefix)) else {
        panic!("no result for {dn_prefix}: {results:#?}")
    };
    let engine::sync::EntryOutcome::Rejected { rejection } = &result.outcome else {
        panic!("{dn_prefix} was not rejected: {result:#?}")
    };
    rejection
}
