//! `Cached<T>`: one value built from the database and kept per instance for a while (the
//! store index, the audience index). A reader takes it while it is fresh; when it is stale, one
//! reader builds it again while the others wait for that build (not each their own: a build of
//! the audience index reads every member), or, for a value worth serving old, one reader starts
//! that build in the background and the old value serves meanwhile; a local change drops it at
//! once.

use std::{
    future::Future,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

pub(crate) struct Cached<T> {
    ttl: Duration,
    slot: RwLock<Option<(Instant, Arc<T>)>>,
    /// Held by the one build in progress.
    building: tokio::sync::Mutex<()>,
    /// Bumped by every invalidation: a build that began before one is handed to its reader
    /// but not kept, since it may have missed the change.
    generation: AtomicU64,
    /// Whether a reader has taken on refreshing a value past its time to live.
    refreshing: AtomicBool,
    /// The kept value was declared past its time ([`expire`](Self::expire)) before its time.
    expired: AtomicBool,
}

impl<T> Cached<T> {
    pub(crate) fn new(ttl: Duration) -> Cached<T> {
        Cached {
            ttl,
            slot: RwLock::new(None),
            building: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            expired: AtomicBool::new(false),
        }
    }

    /// The value, if it was built less than the time to live ago.
    fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().filter(|(built, _)| !self.is_stale(*built)).map(|(_, value)| Arc::clone(value))
    }

    /// The value while it is fresh; otherwise `build`'s, one build at a time: a reader that
    /// waited for another's build takes its value.
    pub(crate) async fn get_or_build<E, F: Future<Output = Result<T, E>>>(
        &self,
        build: impl FnOnce() -> F,
    ) -> Result<Arc<T>, E> {
        if let Some(value) = self.fresh() {
            return Ok(value);
        }
        let _building = self.building.lock().await;
        if let Some(value) = self.fresh() {
            return Ok(value);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let value = Arc::new(build().await?);
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            *slot = Some((Instant::now(), Arc::clone(&value)));
            self.expired.store(false, Ordering::Release);
        }
        Ok(value)
    }

    /// The value however old (`None`: never built, or invalidated since), and whether it is
    /// past its time to live.
    pub(crate) fn kept(&self) -> Option<(Arc<T>, bool)> {
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|(built, value)| (Arc::clone(value), self.is_stale(*built)))
    }

    /// Whether the caller is the one to refresh a value past its time to live (in the
    /// background, while the old one serves): true for one caller until [`refreshed`](Self::refreshed).
    pub(crate) fn claim_refresh(&self) -> bool {
        !self.refreshing.swap(true, Ordering::AcqRel)
    }

    /// The claimed refresh is over (built, failed or given up).
    pub(crate) fn refreshed(&self) {
        self.refreshing.store(false, Ordering::Release);
    }

    /// Marks the value past its time to live, still served: the next build replaces it.
    pub(crate) fn expire(&self) {
        self.expired.store(true, Ordering::Release);
    }

    fn is_stale(&self, built: Instant) -> bool {
        built.elapsed() >= self.ttl || self.expired.load(Ordering::Acquire)
    }

    /// Drops the value: the next reader builds it again, and a build under way is not kept.
    pub(crate) fn invalidate(&self) {
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        *slot = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[tokio::test]
    async fn readers_of_a_stale_value_share_one_build() {
        let cached = Arc::new(Cached::<usize>::new(Duration::from_secs(60)));
        let builds = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (cached, builds) = (Arc::clone(&cached), Arc::clone(&builds));
                tokio::spawn(async move {
                    let value = cached
                        .get_or_build(|| async {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok::<_, ()>(builds.fetch_add(1, Ordering::SeqCst) + 1)
                        })
                        .await;
                    *value.expect("the build")
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.expect("a reader"), 1);
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1, "one build for every reader");
    }

    #[tokio::test]
    async fn an_old_value_is_kept_and_one_reader_refreshes_it() {
        let cached = Cached::<u32>::new(Duration::ZERO);
        assert!(cached.kept().is_none(), "nothing built yet");
        assert_eq!(cached.get_or_build(|| async { Ok::<_, ()>(1) }).await.as_deref(), Ok(&1));
        assert_eq!(cached.kept().map(|(v, old)| (*v, old)), Some((1, true)), "served, though past its time");
        assert!(cached.claim_refresh(), "the first reader refreshes");
        assert!(!cached.claim_refresh(), "the others do not");
        cached.refreshed();
        assert!(cached.claim_refresh(), "until that refresh is over");
        let fresh = Cached::<u32>::new(Duration::from_secs(60));
        fresh.get_or_build(|| async { Ok::<_, ()>(4) }).await.expect("a value");
        fresh.expire();
        assert_eq!(fresh.kept().map(|(v, old)| (*v, old)), Some((4, true)), "expired, still served");
        assert_eq!(fresh.get_or_build(|| async { Ok::<_, ()>(5) }).await.as_deref(), Ok(&5), "and built again");
        cached.invalidate();
        assert!(cached.kept().is_none(), "a local change is never served old");
    }

    #[tokio::test]
    async fn a_build_that_overlapped_an_invalidation_is_not_kept() {
        let cached = Cached::<u32>::new(Duration::from_secs(60));
        let value = cached
            .get_or_build(|| async {
                cached.invalidate();
                Ok::<_, ()>(1)
            })
            .await;
        assert_eq!(value.as_deref(), Ok(&1), "its reader still gets it");
        let next = cached.get_or_build(|| async { Ok::<_, ()>(2) }).await;
        assert_eq!(next.as_deref(), Ok(&2), "the next reader builds again");
        let kept = cached.get_or_build(|| async { Ok::<_, ()>(3) }).await;
        assert_eq!(kept.as_deref(), Ok(&2), "and that build is kept");
        let failed = Cached::<u32>::new(Duration::from_secs(60)).get_or_build(|| async { Err::<u32, _>("down") }).await;
        assert_eq!(failed, Err("down"));
    }
}
