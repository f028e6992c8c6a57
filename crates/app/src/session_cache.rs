//! A short-lived cache of who a credential belongs to, so that a busy API does not read the
//! token, the staff member and their store on every request.
//!
//! Entries live [`TTL`]. This instance forgets a credential at once when it is logged out or
//! revoked, and every credential of a staff member whose job or status changes; another
//! instance may honour such a credential for at most [`TTL`] more.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use quanyu_domain::{authz::Actor, ids::StaffId};

pub const TTL: Duration = Duration::from_secs(30);
/// Past this many entries, expired ones are swept on insert.
const SWEEP_ABOVE: usize = 50_000;

struct Entry {
    actor: Actor,
    cached_at: Instant,
    /// When the credential itself expires.
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Default)]
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl SessionCache {
    /// The actor behind a secret hash, if cached, fresh, and its credential not expired.
    pub fn get(&self, secret_hash: &str) -> Option<Actor> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(secret_hash)?;
        let fresh = entry.cached_at.elapsed() < TTL && entry.expires_at.is_none_or(|e| e > chrono::Utc::now());
        fresh.then(|| entry.actor.clone())
    }

    pub fn put(&self, secret_hash: String, actor: Actor, expires_at: Option<chrono::DateTime<chrono::Utc>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() > SWEEP_ABOVE {
            entries.retain(|_, entry| entry.cached_at.elapsed() < TTL);
        }
        entries.insert(secret_hash, Entry { actor, cached_at: Instant::now(), expires_at });
    }

    pub fn forget(&self, secret_hash: &str) {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(secret_hash);
    }

    pub fn forget_staff(&self, staff_id: StaffId) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|_, entry| entry.actor.staff_id != staff_id);
    }
}
