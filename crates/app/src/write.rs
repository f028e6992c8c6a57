//! The one way a use case writes: a transaction that, under an idempotency key, either replays
//! the reply stored by an earlier identical request or runs the change and stores its reply in
//! the same transaction. So a retried create has exactly one effect, and a key reused for a
//! different request is refused.

use quanyu_domain::time::Timestamp;
use quanyu_store::{IdempotencyRecord, StoreError, Tx, UniqueKey};

use crate::{App, AppError, AppResult, Ctx};

/// A reply as the edge rendered it (status and body bytes), kept for replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// How the edge renders a created value, so the reply can be stored with the change.
pub type Reply<'a, T> = &'a (dyn Fn(&T) -> StoredReply + Sync);

/// The outcome of an idempotent write.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<T> {
    /// The change ran now.
    Fresh(T),
    /// An earlier request with the same key and body ran it; this is its reply.
    Replayed(StoredReply),
}

/// Runs a body against a read-only transaction: `read_tx!(app, |tx| body)`, where `body`
/// evaluates to an `AppResult`. (Macros rather than closure-taking methods: a future that
/// borrows a transaction through an async closure trips the compiler's `Send` check for
/// higher-ranked lifetimes, which the web layer needs.)
macro_rules! read_tx {
    ($app:expr, |$tx:ident| $body:expr) => {{
        let mut guard = $app.database().read().await?;
        let $tx: &mut dyn ::quanyu_store::Tx = &mut *guard;
        let result: $crate::AppResult<_> = async { $body }.await;
        result
    }};
}

/// Runs a body in a write transaction and commits it when the body succeeds.
macro_rules! write_tx {
    ($app:expr, |$tx:ident| $body:expr) => {{
        let mut guard = $app.database().write().await?;
        let result: $crate::AppResult<_> = {
            let $tx: &mut dyn ::quanyu_store::Tx = &mut *guard;
            async { $body }.await
        };
        match result {
            Ok(value) => guard.commit().await.map(|()| value).map_err($crate::AppError::from),
            Err(err) => Err(err),
        }
    }};
}

/// Runs a body in a write transaction under the context's idempotency key, if any:
/// `write_idempotent!(app, ctx, reply, |tx| body)` evaluates to `AppResult<Written<T>>`.
macro_rules! write_idempotent {
    ($app:expr, $ctx:expr, $reply:expr, |$tx:ident| $body:expr) => {{
        match $app.begin_idempotent($ctx).await? {
            Err(replayed) => Ok($crate::Written::Replayed(replayed)),
            Ok(mut guard) => {
                let result: $crate::AppResult<_> = {
                    let $tx: &mut dyn ::quanyu_store::Tx = &mut *guard;
                    async { $body }.await
                };
                match result {
                    Ok(value) => $app.finish_idempotent($ctx, guard, $reply, value).await,
                    Err(err) => Err(err),
                }
            }
        }
    }};
}

impl App {
    /// Opens the write transaction of an idempotent write. Under a key, it first claims the key
    /// in that transaction: a concurrent request with the same key then waits on the claim
    /// (PostgreSQL) or on the single writer (SQLite) and, once the first commits, gets its
    /// stored reply instead of running the change again.
    pub(crate) async fn begin_idempotent(&self, ctx: &Ctx) -> AppResult<Result<Box<dyn Tx>, StoredReply>> {
        let mut tx = self.db.write().await?;
        let Some(idempotency) = &ctx.idempotency else { return Ok(Ok(tx)) };
        if let Some(stored) = tx.get_idempotency(ctx.actor.staff_id, &idempotency.key).await? {
            return replay(stored, &idempotency.fingerprint).map(Err);
        }
        let claim = IdempotencyRecord {
            actor_id: ctx.actor.staff_id,
            key: idempotency.key.clone(),
            fingerprint: idempotency.fingerprint.clone(),
            status: 0,
            body: Vec::new(),
            created_at: now(),
        };
        match tx.insert_idempotency(&claim).await {
            Ok(()) => Ok(Ok(tx)),
            Err(StoreError::Duplicate(UniqueKey::IdempotencyKey)) => {
                drop(tx);
                let mut tx = self.db.read().await?;
                match tx.get_idempotency(ctx.actor.staff_id, &idempotency.key).await? {
                    Some(stored) => replay(stored, &idempotency.fingerprint).map(Err),
                    None => Err(AppError::Internal("a claimed idempotency key vanished".into())),
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Stores the reply under the claimed key (when there is one) and commits.
    pub(crate) async fn finish_idempotent<T>(
        &self,
        ctx: &Ctx,
        mut tx: Box<dyn Tx>,
        reply: Reply<'_, T>,
        value: T,
    ) -> AppResult<Written<T>> {
        if let Some(idempotency) = &ctx.idempotency {
            let rendered = reply(&value);
            let record = IdempotencyRecord {
                actor_id: ctx.actor.staff_id,
                key: idempotency.key.clone(),
                fingerprint: idempotency.fingerprint.clone(),
                status: rendered.status,
                body: rendered.body,
                created_at: now(),
            };
            if !tx.complete_idempotency(&record).await? {
                return Err(AppError::Internal("the idempotency claim was lost".into()));
            }
        }
        tx.commit().await?;
        Ok(Written::Fresh(value))
    }
}

fn replay(stored: IdempotencyRecord, fingerprint: &str) -> AppResult<StoredReply> {
    if stored.fingerprint == fingerprint {
        Ok(StoredReply { status: stored.status, body: stored.body })
    } else {
        Err(AppError::IdempotencyKeyReused)
    }
}

/// The current instant at microsecond precision: what PostgreSQL stores, so a value reads back
/// equal to what was written on either backend.
pub(crate) fn now() -> Timestamp {
    use chrono::SubsecRound as _;
    chrono::Utc::now().trunc_subsecs(6)
}
