//! TLS to both servers verifies certificates by default: LDAPS and StartTLS to a real slapd,
//! HTTPS to scim2-server behind nginx, each with a certificate from a test CA. Untrusted, the
//! connection is refused and the error says why; with the CA file (or verification turned
//! off) it works.

use engine::config::{Config, ConnectionSecurity, LdapSource, ScimServer};
use engine::crypto::Cipher;
use engine::scim::ScimClient;
use test_support::*;

const TOKEN: &str = "tls-token";

fn config(ldap: &str, scim: &str) -> Config {
    serde_json::from_value(fixture_config(ldap, scim, TOKEN)).unwrap()
}

async fn ldap_works(source: &LdapSource) -> Result<(), String> {
    let cipher = Cipher::ephemeral();
    let mut conn = engine::ldap::connect(source, &cipher)
        .await
        .map_err(|e| e.to_string())?;
    let found = conn
        .entry_exists("ou=people,dc=example,dc=com")
        .await
        .map_err(|e| e.to_string())?;
    conn.close().await;
    found
        .then_some(())
        .ok_or_else(|| "ou=people not found".into())
}

#[tokio::test]
async fn ldaps_and_starttls_verify_the_server_certificate() {
    let pki = TestPki::new();
    let ldaps_port = free_port();
    let slapd = Slapd::start_tls(&pki, ldaps_port);
    let base = config(&slapd.address(), "http://127.0.0.1:1/v2").ldap_sources[0].clone();
    let cases = [
        (ConnectionSecurity::Ldaps, format!("127.0.0.1:{ldaps_port}")),
        (ConnectionSecurity::StartTls, slapd.address()),
    ];
    for (security, server) in cases {
        let mut source = base.clone();
        source.connection_security = security;
        source.servers = vec![server.parse().unwrap()];
        assert!(source.verify_certificates, "verification is on by default");
        let refused = ldap_works(&source).await.unwrap_err();
        assert!(
            refused.to_lowercase().contains("certificate")
                || refused.to_lowercase().contains("issuer"),
            "{security:?} without the CA: {refused}"
        );
        source.ca_file = Some(pki.ca_cert.display().to_string());
        ldap_works(&source)
            .await
            .unwrap_or_else(|e| panic!("{security:?} with the CA file: {e}"));
        source.ca_file = None;
        source.verify_certificates = false;
        ldap_works(&source)
            .await
            .unwrap_or_else(|e| panic!("{security:?} without verification: {e}"));
    }
}

#[tokio::test]
async fn https_to_the_scim_service_verifies_its_certificate() {
    let pki = TestPki::new();
    let scim = Scim2Server::start(TOKEN);
    let proxy = TlsProxy::start(scim.port, &pki);
    let mut server: ScimServer = config(
        "127.0.0.1:1",
        &format!("https://127.0.0.1:{}/v2", proxy.port),
    )
    .scim_servers[0]
        .clone();
    assert!(server.verify_certificates, "verification is on by default");
    let cipher = Cipher::ephemeral();
    let get = |server: ScimServer| {
        let cipher = cipher.clone();
        async move {
            ScimClient::new(&server, &cipher)
                .map_err(|e| e.to_string())?
                .get_json("ServiceProviderConfig")
                .await
                .map_err(|e| e.to_string())
        }
    };
    let refused = get(server.clone()).await.unwrap_err();
    assert!(
        refused.to_lowercase().contains("certificate") || refused.to_lowercase().contains("issuer"),
        "without the CA: {refused}"
    );
    server.ca_file = Some(pki.ca_cert.display().to_string());
    let spc = get(server.clone()).await.expect("with the CA file");
    assert!(spc.get("patch").is_some(), "{spc}");
    server.ca_file = None;
    server.verify_certificates = false;
    get(server).await.expect("without verification");
}
