//! Waiting that a stop request cuts short.

use std::time::Duration;
use tokio::sync::watch;

/// The longest pause between attempts while the destination or source is down.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Sleeps `duration` unless asked to stop first; returns whether to stop.
pub(crate) async fn pause(stop: &mut watch::Receiver<bool>, duration: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => *stop.borrow(),
        changed = stop.changed() => changed.is_err() || *stop.borrow(),
    }
}
