//! `Cached<T>`: one value built from the database and kept per instance for a while (the
//! store index, the audience index). A reader takes it while it is fresh; whoever finds it stale
//! rebuilds it and puts it back; a local change drops it at once.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

pub(crate) struct Cached<T> {
    ttl: Duration,
    slot: RwLock<Option<(Instant, Arc<T>)>>,
}

impl<T> Cached<T> {
    pub(crate) fn new(ttl: Duration) -> Cached<T> {
        Cached { ttl, slot: RwLock::new(None) }
    }

    /// The value, if it was built less than the time to live ago.
    pub(crate) fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().filter(|(built, _)| built.elapsed() < self.ttl).map(|(_, value)| Arc::clone(value))
    }

    pub(crate) fn put(&self, value: Arc<T>) {
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), value));
    }

    /// Drops the value: the next reader rebuilds it.
    pub(crate) fn invalidate(&self) {
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
