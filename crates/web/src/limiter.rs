//! The login rate limit: after [`MAX_FAILURES`] wrong passwords for one login within
//! [`WINDOW`], that login is refused until the window has passed. Kept in memory per instance:
//! a restart or another instance starts counting afresh, which still caps guessing at a few
//! attempts per login per window per instance.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::ApiError;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Beyond this many tracked logins, expired entries are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    /// Refuses a login that has used up its failures in the current window.
    pub fn check(&self, login: &str) -> Result<(), ApiError> {
        let failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match failures.get(login) {
            Some(&(count, since)) if count >= MAX_FAILURES && since.elapsed() < WINDOW => {
                Err(ApiError::too_many_attempts((WINDOW - since.elapsed()).as_secs().max(1)))
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, login: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        let entry = failures.entry(login.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn record_success(&self, login: &str) {
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(login);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_success_resets() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("admin").is_ok());
            limiter.record_failure("admin");
        }
        let error = limiter.check("admin").unwrap_err();
        assert_eq!(error.code, "too_many_attempts");
        assert!(limiter.check("other").is_ok(), "other logins are unaffected");
        limiter.record_success("admin");
        assert!(limiter.check("admin").is_ok());
    }
}
