//! Setting a pipe's realtime startpoint (setup step 9, `realtime-sync set-startpoint`).

use crate::config::{Config, LdapSource, SyncPipe};
use crate::ldap::{connect, resolve_startpoint};
use crate::startpoint::{Startpoint, StartpointRequest};
use crate::store::Store;

/// Resolves `request` against the pipe's changelog now and stores it; realtime sync of the
/// pipe then resumes from it. Errors are meant for admins.
pub async fn set_startpoint(
    store: &Store,
    config: &Config,
    pipe: &str,
    request: StartpointRequest,
) -> Result<Startpoint, String> {
    let p = config
        .get::<SyncPipe>(pipe)
        .ok_or_else(|| format!("there is no sync pipe named \"{pipe}\""))?;
    let source = config
        .get::<LdapSource>(&p.source)
        .ok_or_else(|| format!("the pipe's source \"{}\" does not exist", p.source))?;
    let mut conn = connect(source, store.cipher())
        .await
        .map_err(|e| e.to_string())?;
    let resolved = resolve_startpoint(&mut conn, source, &request).await;
    conn.close().await;
    let startpoint = Startpoint {
        request,
        cursor: resolved.map_err(|e| e.to_string())?,
        set_at: chrono::Utc::now(),
    };
    store
        .set_startpoint(pipe, &startpoint)
        .await
        .map_err(|e| e.to_string())?;
    Ok(startpoint)
}
