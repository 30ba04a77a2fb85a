//! Slows password guessing without letting a guesser lock an admin out: after a run of failed
//! sign-ins for one username, that username is refused for a while — to the client addresses
//! that failed for it, not to one that never did (as the major identity providers do, so a
//! correct password from the admin's own machine still goes through) — and a client address
//! that fails very often is refused whatever the username.
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed tries for one username allowed before it is locked.
pub const MAX_FAILURES: u32 = 5;
/// Failed tries from one client address, whatever the usernames, before it is refused too.
/// High: behind a reverse proxy every client has the proxy's address.
pub const MAX_ADDRESS_FAILURES: u32 = 50;
/// How long a lock lasts, and how long failures are remembered.
pub const LOCK_FOR: Duration = Duration::from_secs(60);
/// Bounds memory when many usernames or addresses are tried.
const MAX_TRACKED: usize = 10_000;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// Failures still remembered at `now`.
    fn recent(&self, now: Instant) -> u32 {
        if now.saturating_duration_since(self.last) < LOCK_FOR {
            self.count
        } else {
            0
        }
    }

    fn wait(&self, limit: u32, now: Instant) -> Option<Duration> {
        let since = now.saturating_duration_since(self.last);
        (self.recent(now) >= limit).then(|| LOCK_FOR - since)
    }
}

/// Failed tries counted by some key.
struct Counts<K>(HashMap<K, Failures>);

impl<K: Hash + Eq> Counts<K> {
    fn get(&self, key: &K) -> Option<&Failures> {
        self.0.get(key)
    }

    fn failed(&mut self, key: K, now: Instant) {
        if self.0.len() >= MAX_TRACKED {
            self.0.retain(|_, f| f.recent(now) > 0);
        }
        let f = self.0.entry(key).or_insert(Failures {
            count: 0,
            last: now,
        });
        // Failures older than the lock give a fresh run of tries.
        f.count = f.recent(now) + 1;
        f.last = now;
    }

    fn forget(&mut self, key: &K) {
        self.0.remove(key);
    }
}

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Counts(HashMap::new())
    }
}

#[derive(Default)]
struct Tries {
    by_user: Counts<String>,
    by_user_and_address: Counts<(String, Option<IpAddr>)>,
    by_address: Counts<IpAddr>,
}

#[derive(Clone, Default)]
pub struct SignInThrottle {
    tries: Arc<Mutex<Tries>>,
}

impl SignInThrottle {
    /// How long a sign-in as `username` from `address` must still wait, if it must.
    pub fn locked_for(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Option<Duration> {
        let tries = self.tries.lock().expect("throttle lock");
        let user = username.to_ascii_lowercase();
        if let Some(wait) = address
            .and_then(|a| tries.by_address.get(&a))
            .and_then(|f| f.wait(MAX_ADDRESS_FAILURES, now))
        {
            return Some(wait);
        }
        let locked = tries.by_user.get(&user)?.wait(MAX_FAILURES, now)?;
        // A client that has not failed for this username may still try.
        let failed_here = tries
            .by_user_and_address
            .get(&(user, address))
            .is_some_and(|f| f.recent(now) > 0);
        (failed_here || address.is_none()).then_some(locked)
    }

    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: Instant) {
        let mut tries = self.tries.lock().expect("throttle lock");
        let user = username.to_ascii_lowercase();
        tries.by_user.failed(user.clone(), now);
        tries.by_user_and_address.failed((user, address), now);
        if let Some(address) = address {
            tries.by_address.failed(address, now);
        }
    }

    /// A correct password: the username's failures are forgotten (its client address's are
    /// not: one account known to a guesser must not clear its tries at others).
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let mut tries = self.tries.lock().expect("throttle lock");
        let user = username.to_ascii_lowercase();
        tries.by_user.forget(&user);
        tries.by_user_and_address.forget(&(user, address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, n]))
    }

    #[test]
    fn a_run_of_failures_locks_the_username_where_they_came_from() {
        let t = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            t.failed("Admin", at(1), start);
        }
        assert_eq!(t.locked_for("admin", at(1), start), None);
        t.failed("admin", at(1), start);
        assert_eq!(t.locked_for("ADMIN", at(1), start), Some(LOCK_FOR));
        assert_eq!(t.locked_for("other", at(1), start), None);
        // The admin's own machine, which never failed, still gets through; once it fails
        // while the username is locked, it waits too.
        assert_eq!(t.locked_for("admin", at(2), start), None);
        t.failed("admin", at(2), start);
        assert!(t.locked_for("admin", at(2), start).is_some());
        // Without an address (no connection information) the username lock holds.
        assert!(t.locked_for("admin", None, start).is_some());
        let later = start + LOCK_FOR;
        assert_eq!(
            t.locked_for("admin", at(1), later),
            None,
            "the lock runs out"
        );
        t.failed("admin", at(1), later);
        assert_eq!(
            t.locked_for("admin", at(1), later),
            None,
            "a fresh run of tries"
        );
        t.succeeded("admin", at(1));
        assert_eq!(t.locked_for("admin", at(1), later), None);
    }

    #[test]
    fn an_address_that_fails_very_often_waits_whatever_the_username() {
        let t = SignInThrottle::default();
        let start = Instant::now();
        for n in 0..MAX_ADDRESS_FAILURES {
            t.failed(&format!("user{n}"), at(9), start);
        }
        assert_eq!(t.locked_for("someone", at(9), start), Some(LOCK_FOR));
        assert_eq!(t.locked_for("someone", at(8), start), None);
        assert_eq!(t.locked_for("someone", at(9), start + LOCK_FOR), None);
    }
}
