//! When to try a SCIM request again, and how long to wait.
//!
//! 429 and 503 wait as long as `Retry-After` says (capped); other transient failures
//! ([`ScimError::is_transient`]: 5xx, timeouts, network errors, a token endpoint that is down)
//! back off exponentially with full jitter; anything else is final — the request itself is
//! wrong and sending it again would not help.

use super::ScimError;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts, the first included (at least 1).
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 1,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    pub fn with_attempts(attempts: u32) -> Self {
        RetryPolicy {
            attempts: attempts.max(1),
            ..Default::default()
        }
    }

    /// How long to wait before attempt `attempt + 1` after `error`, or `None` if it is final.
    pub fn delay(&self, error: &ScimError, attempt: u32) -> Option<Duration> {
        if attempt >= self.attempts {
            return None;
        }
        let retry_after = error
            .http_failure()
            .filter(|f| matches!(f.status, 429 | 503))
            .and_then(|f| f.retry_after);
        match retry_after {
            Some(after) => Some(self.spread(after.min(self.max_retry_after))),
            None if error.is_transient() => Some(self.backoff(attempt)),
            None => None,
        }
    }

    /// `Retry-After` plus up to half again: throttled workers would otherwise all come back
    /// at the same instant and be throttled together again.
    fn spread(&self, after: Duration) -> Duration {
        use rand::Rng;
        after + after.mul_f64(rand::thread_rng().gen_range(0.0..=0.5))
    }

    /// Full jitter: uniform in [0, min(max, base·2^(attempt-1))].
    fn backoff(&self, attempt: u32) -> Duration {
        use rand::Rng;
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        ceiling.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
        .or(Some(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<Duration>) -> ScimError {
        ScimError::Status(Box::new(super::super::error::HttpFailure {
            method: "GET".into(),
            url: "u".into(),
            status,
            scim_type: None,
            detail: None,
            body: None,
            retry_after,
        }))
    }

    #[test]
    fn classifies_errors() {
        let p = RetryPolicy::with_attempts(3);
        // Retry-After is honoured, plus up to half again of jitter; longer ones are capped.
        let waited = p
            .delay(&status(429, Some(Duration::from_secs(2))), 1)
            .unwrap();
        assert!(
            waited >= Duration::from_secs(2) && waited <= Duration::from_secs(3),
            "{waited:?}"
        );
        let capped = p
            .delay(&status(503, Some(Duration::from_secs(9999))), 1)
            .unwrap();
        assert!(
            capped >= Duration::from_secs(300) && capped <= Duration::from_secs(450),
            "{capped:?}"
        );
        assert!(p.delay(&status(502, None), 1).unwrap() <= Duration::from_millis(200));
        assert!(p.delay(&status(500, None), 2).unwrap() <= Duration::from_millis(400));
        let transport = ScimError::Transport {
            method: "GET".into(),
            url: "u".into(),
            message: "cannot connect".into(),
        };
        assert!(p.delay(&transport, 1).is_some());
        for final_status in [400, 401, 403, 404, 409, 412] {
            assert_eq!(
                p.delay(&status(final_status, None), 1),
                None,
                "{final_status}"
            );
        }
        assert_eq!(p.delay(&status(503, None), 3), None, "no attempts left");
        // A token endpoint that is down is retried; one that refuses the client is not.
        let token = |transient| ScimError::Token {
            url: "t".into(),
            message: "m".into(),
            transient,
        };
        assert!(p.delay(&token(true), 1).is_some());
        assert_eq!(p.delay(&token(false), 1), None);
        // The pipes ask the same question.
        let gave_up = |last: ScimError| ScimError::GaveUp {
            attempts: 3,
            last: Box::new(last),
        };
        assert!(gave_up(status(500, None)).is_transient());
        assert!(gave_up(token(true)).is_transient());
        assert!(!gave_up(status(400, None)).is_transient());
        assert!(status(429, None).is_throttled() && !status(503, None).is_throttled());
        let invalid = ScimError::InvalidResponse {
            method: "GET".into(),
            url: "u".into(),
            message: "m".into(),
        };
        assert!(!invalid.is_transient());
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
