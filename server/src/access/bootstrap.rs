//! The first admin: created when the console starts with no admin (no users at all, or only
//! viewers added with `scimsync users add` before it first ran), with the password from
//! SCIMSYNC_ADMIN_PASSWORD or a random one printed once.

use engine::store::{Role, Store};

pub const ADMIN_PASSWORD_ENV: &str = "SCIMSYNC_ADMIN_PASSWORD";

pub async fn ensure_admin(store: &Store) -> anyhow::Result<()> {
    let users = store.console_users().await?;
    if users.iter().any(|u| u.role == Role::Admin) {
        return Ok(());
    }
    // "admin", unless a viewer already has that name.
    let name = std::iter::once("admin".to_owned())
        .chain((2..).map(|n| format!("admin{n}")))
        .find(|name| !users.iter().any(|u| &u.username == name))
        .expect("a free name");
    let why = if users.is_empty() {
        "first start"
    } else {
        "no admin existed"
    };
    let (password, generated) = match std::env::var(ADMIN_PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (random_password(), true),
    };
    store
        .add_console_user(&name, &password, Role::Admin)
        .await?;
    store
        .record_audit(
            "scimsync",
            "create",
            &format!("console user \"{name}\""),
            &format!("role admin ({why})"),
        )
        .await?;
    if !users.is_empty() {
        eprintln!(
            "scimsync: no console user is an admin ({} viewer(s)), so nobody could set anything up",
            users.len()
        );
    }
    if generated {
        // Printed once, to the terminal that started the server; never logged or stored.
        eprintln!(
            "scimsync: created console user \"{name}\" with password  {password}  — shown only now; \
             change it with `scimsync users set-password {name}`"
        );
    } else {
        eprintln!(
            "scimsync: created console user \"{name}\" with the password from {ADMIN_PASSWORD_ENV}"
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
