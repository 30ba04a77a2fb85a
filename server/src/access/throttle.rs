//! Slows password guessing: after a run of failed sign-ins for one username, further tries
//! for it are refused for a while, whatever the password.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed tries allowed before a username is locked.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked username stays locked.
pub const LOCK_FOR: Duration = Duration::from_secs(60);
/// Bounds memory when many usernames are tried.
const MAX_TRACKED: usize = 10_000;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Clone, Default)]
pub struct SignInThrottle {
    failures: Arc<Mutex<HashMap<String, Failures>>>,
}

impl SignInThrottle {
    /// How long `username` must still wait, if it is locked.
    pub fn locked_for(&self, username: &str, now: Instant) -> Option<Duration> {
        let map = self.failures.lock().expect("throttle lock");
        let f = map.get(&username.to_ascii_lowercase())?;
        let since = now.saturating_duration_since(f.last);
        (f.count >= MAX_FAILURES && since < LOCK_FOR).then(|| LOCK_FOR - since)
    }

    pub fn failed(&self, username: &str, now: Instant) {
        let mut map = self.failures.lock().expect("throttle lock");
        if map.len() >= MAX_TRACKED {
            map.retain(|_, f| now.saturating_duration_since(f.last) < LOCK_FOR);
        }
        let f = map
            .entry(username.to_ascii_lowercase())
            .or_insert(Failures {
                count: 0,
                last: now,
            });
        // A lock that has run out gives a fresh run of tries.
        if f.count >= MAX_FAILURES && now.saturating_duration_since(f.last) >= LOCK_FOR {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
    }

    pub fn succeeded(&self, username: &str) {
        self.failures
            .lock()
            .expect("throttle lock")
            .remove(&username.to_ascii_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_failures_locks_the_username_for_a_while() {
        let t = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            t.failed("Admin", start);
        }
        assert_eq!(t.locked_for("admin", start), None);
        t.failed("admin", start);
        assert_eq!(t.locked_for("ADMIN", start), Some(LOCK_FOR));
        assert_eq!(t.locked_for("other", start), None);
        let later = start + LOCK_FOR;
        assert_eq!(t.locked_for("admin", later), None, "the lock runs out");
        t.failed("admin", later);
        assert_eq!(t.locked_for("admin", later), None, "a fresh run of tries");
        t.succeeded("admin");
        assert_eq!(t.locked_for("admin", later), None);
    }
}
