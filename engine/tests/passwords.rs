//! Passwords in realtime sync: the clear text a change carries reaches the SCIM service, a
//! stored hash never does. 389 DS writes the clear text of a password modify into its Retro
//! Changelog records; on
//! OpenLDAP a password-capture component adds an encrypted copy to the operation, decrypted
//! with the changelog password decryption key (step 2). What was sent is read from an nginx
//! proxy's request log, since a SCIM service never returns passwords.

use engine::changelog::ChangelogPasswordKey;
use engine::config::{ChangelogFlavor, Config, Secret};
use engine::store::Store;
use serde_json::json;
use std::time::{Duration, Instant};
use test_support::*;

const TOKEN: &str = "password-token";
const PIPE: &str = "LDAP to SCIM";
const SHARED_KEY: &str = "correct horse battery staple, shared with the directory";

struct Running {
    store: Store,
    scim: Scim2Server,
    proxy: AuthProxy,
    run: RealtimeRun,
    _dir: tempfile::TempDir,
}

/// Realtime sync from the end of the changelog, through the recording proxy, with a
/// write-only password mapping used only in realtime.
async fn start(ldap_address: String, flavour: ChangelogFlavor, key: Option<&str>) -> Running {
    let scim = Scim2Server::start(TOKEN);
    let proxy = AuthProxy::start(&scim, TOKEN, "u", "p", "c", "s");
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config = serde_json::from_value(fixture_config(
        &ldap_address,
        &format!("http://127.0.0.1:{}/recorded/v2", proxy.port),
        TOKEN,
    ))
    .unwrap();
    config.ldap_sources[0].changelog = flavour;
    config.global.changelog_password_decryption_key = key.map(Secret::plain);
    config.attribute_mappings.push(
        serde_json::from_value(json!({
            "name": "Password", "scim-attribute-name": "password",
            "attribute-usage": ["create-during-realtime-sync", "update-during-realtime-sync"],
            "syntax": { "type": "string", "ldap-attribute": "userPassword", "single-valued": true }
        }))
        .unwrap(),
    );
    config.endpoint_mappings[0]
        .attribute_mappings
        .push("Password".into());
    let store = sqlite_store(&dir.path().join("s.db")).await;
    store.replace_all(config).await.unwrap();
    let config = store.load_config().await.unwrap();
    let run = RealtimeRun::from_end(&store, &config, PIPE).await;
    Running {
        store,
        scim,
        proxy,
        run,
        _dir: dir,
    }
}

impl Running {
    /// Waits until the SCIM side holds `uid` with surname `sn`.
    async fn wait_for(&self, uid: &str, sn: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while scim_people(&self.scim.base_url(), TOKEN)
            .get(uid)
            .map(String::as_str)
            != Some(sn)
        {
            assert!(
                Instant::now() < deadline,
                "{uid} never reached sn={sn}: {:#?}",
                self.run.progress.snapshot()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Request lines (method, path, body) sent through the proxy with `needle` in them.
    fn sent_with(&self, needle: &str) -> Vec<String> {
        self.proxy
            .recorded_requests()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }

    async fn finish(self) {
        self.run.stop().await;
    }
}

fn add(uid: &str, sn: &str, extra: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nobjectClass: scimsyncTestUser\nuid: {uid}\ncn: {uid}\nsn: {sn}\n{extra}\n"
    )
}

fn modify(uid: &str, body: &str) -> String {
    format!("dn: uid={uid},ou=people,{SUFFIX}\nchangetype: modify\n{body}\n")
}

#[tokio::test]
async fn ds389_clear_text_passwords_from_the_retro_changelog_are_sent_and_hashes_never() {
    let ds = Ds389::start();
    let run = start(ds.address(), ChangelogFlavor::DraftGood, None).await;

    ds.modify(
        &add("pat", "First", "userPassword: Initial-Pa55\n")
            .replace("objectClass: scimsyncTestUser\n", ""),
    );
    run.wait_for("pat", "First").await;
    ds.modify(&modify(
        "pat",
        "replace: userPassword\nuserPassword: Changed-Pa55\n-\nreplace: sn\nsn: Second\n",
    ));
    run.wait_for("pat", "Second").await;
    ds.modify(&modify("pat", "replace: sn\nsn: Third\n"));
    run.wait_for("pat", "Third").await;

    // 389 DS records the clear text for a modify only: an add's record holds just the hash.
    assert!(run.sent_with("Initial-Pa55").is_empty());
    let changed = run.sent_with("Changed-Pa55");
    assert!(
        changed.len() == 1 && changed[0].starts_with("PATCH /recorded/v2/Users/"),
        "{changed:?}"
    );
    let log = run.proxy.recorded_requests();
    assert_eq!(
        log.matches("password").count(),
        1,
        "the password is sent with its change only, not with the add or the sn change:\n{log}"
    );
    assert!(!log.contains("{PBKDF2"), "a stored hash was sent:\n{log}");
    assert!(run.store.rejections(None, 10).await.unwrap().is_empty());
    run.finish().await;
}

#[tokio::test]
async fn openldap_encrypted_passwords_are_decrypted_with_the_changelog_key() {
    let slapd = Slapd::start();
    let run = start(
        slapd.address(),
        ChangelogFlavor::OpenldapAccesslog,
        Some(SHARED_KEY),
    )
    .await;
    let key = ChangelogPasswordKey::new(SHARED_KEY);

    slapd.modify(&add(
        "enc",
        "First",
        &format!(
            "userPassword: {{SSHA}}c3RvcmVkLWhhc2gtMQ==\nds-changelog-encrypted-password: {}\n",
            key.encrypt("Encrypted-Initial")
        ),
    ));
    run.wait_for("enc", "First").await;
    slapd.modify(&modify(
        "enc",
        &format!(
            "replace: userPassword\nuserPassword: {{SSHA}}c3RvcmVkLWhhc2gtMg==\n-\nreplace: ds-changelog-encrypted-password\nds-changelog-encrypted-password: {}\n-\nreplace: sn\nsn: Second\n",
            key.encrypt("Encrypted-Changed")
        ),
    ));
    run.wait_for("enc", "Second").await;
    assert_eq!(run.sent_with("Encrypted-Initial").len(), 1);
    assert_eq!(run.sent_with("Encrypted-Changed").len(), 1);
    assert!(run.sent_with("{SSHA}").is_empty(), "a stored hash was sent");

    // Encrypted with another key: the change is rejected, saying why, and the next goes on.
    let other = ChangelogPasswordKey::new("not the shared key");
    slapd.modify(&modify(
        "enc",
        &format!(
            "replace: ds-changelog-encrypted-password\nds-changelog-encrypted-password: {}\n-\nreplace: sn\nsn: Third\n",
            other.encrypt("Never-Sent")
        ),
    ));
    slapd.modify(&add("after", "Next", ""));
    run.wait_for("after", "Next").await;
    let rejections = run.store.rejections(None, 10).await.unwrap();
    assert_eq!(rejections.len(), 1, "{rejections:#?}");
    assert_eq!(rejections[0].dn, format!("uid=enc,ou=people,{SUFFIX}"));
    assert!(
        rejections[0].reason.contains("cannot be decrypted"),
        "{}",
        rejections[0].reason
    );
    assert!(run.sent_with("Never-Sent").is_empty());
    assert!(
        !serde_json::to_string(&rejections[0])
            .unwrap()
            .contains("Never-Sent")
    );
    run.finish().await;
}
