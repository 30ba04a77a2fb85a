//! `scimsync users list | add | set-password | remove`: console sign-ins.

use crate::cli::{InstanceArgs, RoleArg, UserAction};
use crate::instance::audit;
use crate::output::say;
use anyhow::Context;
use engine::store::Role;
use std::io::BufRead;
use std::process::ExitCode;

const PASSWORD_ENV: &str = "SCIMSYNC_USER_PASSWORD";

/// The new password: from the environment, else the first line of standard input.
fn read_password(username: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_ENV)
        && !p.is_empty()
    {
        return Ok(p);
    }
    eprintln!(
        "password for \"{username}\" (at least {} characters), then Enter:",
        engine::store::MIN_PASSWORD_LEN
    );
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn run(instance: &InstanceArgs, action: UserAction) -> anyhow::Result<ExitCode> {
    let store = instance.open_store().await?;
    match action {
        UserAction::List => {
            for u in store.console_users().await? {
                say!("{}\t{}", u.username, u.role.as_str());
            }
        }
        UserAction::Add { username, role } => {
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Viewer => Role::Viewer,
            };
            let password = read_password(&username)?;
            store.add_console_user(&username, &password, role).await?;
            let target = format!("console user \"{username}\"");
            audit(
                &store,
                "create",
                &target,
                &format!("role {}", role.as_str()),
            )
            .await;
            say!("added {} user \"{username}\"", role.as_str());
        }
        UserAction::SetPassword { username } => {
            let password = read_password(&username)?;
            store.set_console_password(&username, &password).await?;
            let target = format!("console user \"{username}\"");
            audit(&store, "set-password", &target, "").await;
            say!("password of \"{username}\" set; their sessions are closed");
        }
        UserAction::Remove { username } => {
            store.remove_console_user(&username).await?;
            audit(
                &store,
                "delete",
                &format!("console user \"{username}\""),
                "",
            )
            .await;
            say!("removed \"{username}\"");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
