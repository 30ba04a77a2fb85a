//! The first admin: created on the first start of a console with no users, with the
//! password from SCIMSYNC_ADMIN_PASSWORD or a random one printed once.

use engine::store::{Role, Store};

pub const ADMIN_PASSWORD_ENV: &str = "SCIMSYNC_ADMIN_PASSWORD";

pub async fn ensure_admin(store: &Store) -> anyhow::Result<()> {
    if !store.console_users().await?.is_empty() {
        return Ok(());
    }
    let (password, generated) = match std::env::var(ADMIN_PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (random_password(), true),
    };
    store
        .add_console_user("admin", &password, Role::Admin)
        .await?;
    store
        .record_audit(
            "scimsync",
            "create",
            "console user \"admin\"",
            "role admin (first start)",
        )
        .await?;
    if generated {
        // Printed once, to the terminal that started the server; never logged or stored.
        eprintln!(
            "scimsync: created console user \"admin\" with password  {password}  — shown only now; \
             change it with `scimsync users set-password admin`"
        );
    } else {
        eprintln!(
            "scimsync: created console user \"admin\" with the password from {ADMIN_PASSWORD_ENV}"
        );
    }
    Ok(())
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}
