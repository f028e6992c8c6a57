//! Rate limits kept in memory per instance: a [`Limiter`] counts events per key in a fixed
//! window and refuses the key once it reaches its maximum, until the window has passed. A
//! restart or another instance starts counting afresh, which still caps abuse at a few events
//! per key per window per instance.
//!
//! - [`Limiter::logins`]: wrong staff passwords per login (a success forgets them).
//! - [`Limiter::code_sends`]: sign-in codes asked for per client address, so one client cannot
//!   send SMS to many phones (each phone's own limit is the use case's).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::ApiError;

/// Beyond this many tracked keys, expired entries are swept on the next event.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct Limiter {
    max: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Limiter {
        Limiter { max, window, counts: Mutex::default() }
    }

    /// Five wrong passwords per login in 15 minutes.
    pub fn logins() -> Limiter {
        Limiter::new(5, Duration::from_secs(15 * 60))
    }

    /// Twenty sign-in codes per client address an hour.
    pub fn code_sends() -> Limiter {
        Limiter::new(20, Duration::from_secs(60 * 60))
    }

    /// Refuses a key that has used up its events in the current window.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        let counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match counts.get(key) {
            Some(&(count, since)) if count >= self.max && since.elapsed() < self.window => {
                Err(ApiError::too_many_attempts((self.window - since.elapsed()).as_secs().max(1)))
            }
            _ => Ok(()),
        }
    }

    pub fn record(&self, key: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts.len() > SWEEP_ABOVE {
            counts.retain(|_, (_, since)| since.elapsed() < self.window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn forget(&self, key: &str) {
        self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_maximum_and_forgetting_resets() {
        let limiter = Limiter::logins();
        for _ in 0..5 {
            assert!(limiter.check("admin").is_ok());
            limiter.record("admin");
        }
        let error = limiter.check("admin").unwrap_err();
        assert_eq!(error.code, "too_many_attempts");
        assert!(limiter.check("other").is_ok(), "other keys are unaffected");
        limiter.forget("admin");
        assert!(limiter.check("admin").is_ok());
    }

    #[test]
    fn a_new_window_starts_counting_afresh() {
        let limiter = Limiter::new(1, Duration::from_millis(1));
        limiter.record("k");
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.check("k").is_ok(), "the window has passed");
        limiter.record("k");
        let fresh = Limiter::new(1, Duration::from_secs(60));
        fresh.record("k");
        assert!(fresh.check("k").is_err());
    }
}
