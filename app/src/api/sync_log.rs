//! The log-of-changes page: the changes the engine handled, filtered and paged.

use crate::model::*;
use leptos::prelude::*;

/// Changes shown per page.
pub const LOG_PAGE: u32 = 100;

/// Logged changes matching the filter (blank fields match everything), newest first; with
/// `before`, the page older than that change.
#[server]
pub async fn logged_changes(
    pipe: String,
    dn: String,
    outcome: String,
    since: String,
    before: String,
) -> Result<Vec<LoggedChange>, ServerFnError> {
    use super::ssr::{fail, state};
    let mut filter =
        engine::store::SyncLogFilter::from_text("", &pipe, &dn, &outcome, &since, LOG_PAGE)
            .map_err(ServerFnError::new)?;
    filter.before = Some(before).filter(|b| !b.is_empty());
    state()?.store.logged_changes(&filter).await.map_err(fail)
}
