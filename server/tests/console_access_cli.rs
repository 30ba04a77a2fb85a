//! Console access from outside the process: the first admin on first start, `scimsync users`,
//! and the console served over HTTPS with a given certificate (curl as the client).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use test_support::{TestPki, free_port};

fn scimsync(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimsync"));
    cmd.env_remove("SCIMSYNC_DATABASE_URL")
        .env_remove("SCIMSYNC_KEY_FILE")
        .env_remove("SCIMSYNC_ADMIN_PASSWORD")
        .env_remove("SCIMSYNC_USER_PASSWORD")
        .env("SCIMSYNC_DATA_DIR", data)
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run scimsync")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Starts `scimsync serve`; returns it with what it printed on stderr until it listened.
fn serve(data: &Path, port: u16, extra: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimsync"));
    cmd.env_remove("SCIMSYNC_ADMIN_PASSWORD")
        .env("SCIMSYNC_DATA_DIR", data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("scimsync serve exited:\n{printed}");
        }
        printed.push_str(&line);
        if line.starts_with("scimsync console:") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scimsync serve did not start:\n{printed}"
        );
    }
    // Keep draining so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    (child, printed)
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl (apt-get install curl)")
}

#[test]
fn the_log_level_comes_from_scimsync_log_else_rust_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stderr = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimsync"));
        cmd.env_remove("SCIMSYNC_LOG")
            .env_remove("RUST_LOG")
            .env("SCIMSYNC_DATA_DIR", &data)
            .args(["users", "list"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text) = stderr(&[("RUST_LOG", "debug")]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("DEBUG"), "RUST_LOG is honoured: {text}");
    let (_, text) = stderr(&[("RUST_LOG", "debug"), ("SCIMSYNC_LOG", "warn")]);
    assert!(!text.contains("DEBUG"), "SCIMSYNC_LOG comes first: {text}");
    let (code, text) = stderr(&[("RUST_LOG", "info,engine=[[")]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("RUST_LOG=\"info,engine=[[\" is not a log filter"),
        "{text}"
    );
}

#[test]
fn a_guesser_cannot_lock_the_admin_out_of_their_own_machine() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let password = "the admin's own password";
    let (mut server, _) = serve(&data, port, &[], &[("SCIMSYNC_ADMIN_PASSWORD", password)]);
    // A sign-in from `from` (a loopback address of its own): the HTTP status.
    let sign_in = |from: &str, password: &str| {
        let out = sign_in_as_admin(port, password, &["-w", "%{http_code}", "--interface", from]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for _ in 0..5 {
        assert_eq!(sign_in("127.0.0.9", "a guess"), "401");
    }
    // The guesser's address is locked out, even with the right password…
    assert_eq!(sign_in("127.0.0.9", password), "429");
    // …the admin's own machine, which never failed, is not.
    assert_eq!(sign_in("127.0.0.2", password), "303");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn behind_an_https_public_url_the_session_cookie_is_secure() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let password = "the admin's own password";
    let out = scimsync(
        &data,
        &["serve", "--public-url", "ftp://console.example.com"],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("\"ftp://console.example.com\" is not an http:// or https:// URL"),
        "{}",
        text(&out)
    );
    let (mut server, _) = serve(
        &data,
        port,
        &["--public-url", "https://console.example.com/"],
        &[("SCIMSYNC_ADMIN_PASSWORD", password)],
    );
    let out = sign_in_as_admin(port, password, &["-D", "-"]);
    server.kill().unwrap();
    server.wait().unwrap();
    let headers = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    let cookie = headers
        .lines()
        .find(|l| l.starts_with("set-cookie: scimsync_session="))
        .unwrap_or_else(|| panic!("{headers}"));
    assert!(cookie.contains("; secure"), "{cookie}");
}

#[test]
fn a_console_with_only_viewers_gets_an_admin_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for name in ["admin", "watcher"] {
        let out = scimsync(
            &data,
            &["users", "add", name, "--role", "viewer"],
            &[("SCIMSYNC_USER_PASSWORD", "a viewer's password")],
        );
        assert!(out.status.success(), "{}", text(&out));
    }
    let (mut server, printed) = serve(&data, free_port(), &[], &[]);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        printed.contains("no console user is an admin (2 viewer(s))")
            && printed.contains("created console user \"admin2\" with password"),
        "{printed}"
    );
    let out = scimsync(&data, &["users", "list"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "admin\tviewer\nadmin2\tadmin\nwatcher\tviewer\n",
        "{}",
        text(&out)
    );
}

/// Posts the sign-in form as `admin` from the console's own origin (curl, with `extra`
/// options; the body is discarded).
fn sign_in_as_admin(port: u16, password: &str, extra: &[&str]) -> Output {
    let origin = format!("Origin: http://127.0.0.1:{port}");
    let password = format!("password={password}");
    let url = format!("http://127.0.0.1:{port}/login");
    let mut args = vec!["-o", "/dev/null", "-H", &origin];
    args.extend_from_slice(&[
        "--data-urlencode",
        "username=admin",
        "--data-urlencode",
        &password,
    ]);
    args.extend_from_slice(extra);
    args.push(&url);
    curl(&args)
}

#[test]
fn first_start_creates_one_admin_and_users_are_managed_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let (mut server, printed) = serve(&data, port, &[], &[]);
    let line = printed
        .lines()
        .find(|l| l.contains("created console user \"admin\" with password"))
        .unwrap_or_else(|| panic!("no admin password printed:\n{printed}"));
    let password = line.split_whitespace().nth(7).unwrap().to_owned();
    assert!(password.len() >= 20, "{line}");
    server.kill().unwrap();
    server.wait().unwrap();
    // Second start: nobody is created and no password is printed.
    let (mut server, printed) = serve(&data, port, &[], &[]);
    assert!(!printed.contains("created console user"), "{printed}");
    server.kill().unwrap();
    server.wait().unwrap();
    // The password is not in the database file.
    let db = std::fs::read(data.join("scimsync.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(&password));

    let out = scimsync(&data, &["users", "list"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "admin\tadmin\n",
        "{}",
        text(&out)
    );
    let out = scimsync(
        &data,
        &["users", "add", "watcher", "--role", "viewer"],
        &[("SCIMSYNC_USER_PASSWORD", "short")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("too short: at least 12 characters"),
        "{}",
        text(&out)
    );
    let out = scimsync(
        &data,
        &["users", "add", "watcher", "--role", "viewer"],
        &[("SCIMSYNC_USER_PASSWORD", "a viewer's password")],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = scimsync(&data, &["users", "remove", "admin"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("\"admin\" is the last admin"),
        "{}",
        text(&out)
    );
    let out = scimsync(&data, &["users", "list"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "admin\tadmin\nwatcher\tviewer\n"
    );
    let out = scimsync(
        &data,
        &["users", "add", "bad name", "--role", "admin"],
        &[("SCIMSYNC_USER_PASSWORD", "long enough password")],
    );
    assert!(
        text(&out).contains("username \"bad name\" is not valid"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_console_serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let data = dir.path().join("data");
    let port = free_port();
    let (cert_arg, key_arg, ca_arg) = (
        pki.server_cert.display().to_string(),
        pki.server_key.display().to_string(),
        pki.ca_cert.display().to_string(),
    );
    let (mut server, printed) = serve(
        &data,
        port,
        &["--tls-cert", &cert_arg, "--tls-key", &key_arg],
        &[("SCIMSYNC_ADMIN_PASSWORD", "https admin password")],
    );
    assert!(
        printed.contains(&format!("https://127.0.0.1:{port}")),
        "{printed}"
    );
    let base = format!("https://127.0.0.1:{port}");

    // Verified against the issuing CA: the sign-in page.
    let out = curl(&["--cacert", &ca_arg, &format!("{base}/login")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Sign in"));
    // Without trusting it, curl refuses; plain HTTP gets no page.
    assert!(!curl(&[&format!("{base}/login")]).status.success());
    let plain = curl(&[&format!("http://127.0.0.1:{port}/login")]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("Sign in"));

    // Signing in over HTTPS gives a Secure cookie that opens the console.
    let out = curl(&[
        "--cacert",
        &ca_arg,
        "-i",
        "-H",
        &format!("Origin: {base}"),
        "--data",
        "username=admin&password=https+admin+password&next=%2Fstep%2F1",
        &format!("{base}/login"),
    ]);
    let head = String::from_utf8_lossy(&out.stdout).into_owned();
    let cookie_line = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie:\n{head}"));
    for flag in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie_line.contains(flag), "{cookie_line}");
    }
    let cookie = cookie_line
        .split_once(':')
        .unwrap()
        .1
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let out = curl(&[
        "--cacert",
        &ca_arg,
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        &format!("Cookie: {cookie}"),
        &format!("{base}/step/1"),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    let out = curl(&[
        "--cacert",
        &ca_arg,
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("{base}/step/1"),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "303");
    server.kill().unwrap();
    server.wait().unwrap();

    // A key that does not fit the certificate is named.
    let other_key = dir.path().join("okey.pem");
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-out"])
        .arg(&other_key)
        .output()
        .unwrap();
    assert!(made.status.success());
    let out = scimsync(
        &data,
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--tls-cert",
            &cert_arg,
            "--tls-key",
            &other_key.display().to_string(),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("the key does not fit the certificate"),
        "{}",
        text(&out)
    );
}
