//! A shared limit on SCIM requests per second: requests are spaced evenly, so a burst
//! never exceeds the destination's published rate.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    pub fn per_second(rate: u32) -> RateLimiter {
        RateLimiter {
            interval: Duration::from_secs(1) / rate.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests() {
        let limiter = RateLimiter::per_second(10);
        let start = Instant::now();
        for _ in 0..21 {
            limiter.acquire().await;
        }
        // 21 slots at 100 ms spacing: the last one starts at 2 s.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
