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

impl App {
    /// Runs `change` in a write transaction, honouring `ctx.idempotency` with `reply`.
    pub(crate) async fn write_idempotent<T>(
        &self,
        ctx: &Ctx,
        reply: Reply<'_, T>,
        change: impl AsyncFnOnce(&mut dyn Tx) -> AppResult<T>,
    ) -> AppResult<Written<T>> {
        let Some(idempotency) = &ctx.idempotency else {
            return self.write(change).await.map(Written::Fresh);
        };
        let mut tx = self.db.write().await?;
        if let Some(stored) = tx.get_idempotency(ctx.actor.staff_id, &idempotency.key).await? {
            return replay(stored, &idempotency.fingerprint);
        }
        let value = change(&mut *tx).await?;
        let rendered = reply(&value);
        let record = IdempotencyRecord {
            actor_id: ctx.actor.staff_id,
            key: idempotency.key.clone(),
            fingerprint: idempotency.fingerprint.clone(),
            status: rendered.status,
            body: rendered.body,
            created_at: now(),
        };
        let stored = match tx.insert_idempotency(&record).await {
            Ok(()) => tx.commit().await,
            Err(err) => Err(err),
        };
        match stored {
            Ok(()) => Ok(Written::Fresh(value)),
            // A concurrent request with the same key committed first (PostgreSQL; SQLite's
            // single writer serialises them): ours rolled back, so answer with theirs.
            Err(StoreError::Duplicate(UniqueKey::IdempotencyKey)) => {
                let mut tx = self.db.read().await?;
                match tx.get_idempotency(ctx.actor.staff_id, &idempotency.key).await? {
                    Some(stored) => replay(stored, &idempotency.fingerprint),
                    None => Err(AppError::Internal("idempotency record vanished".into())),
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Runs `change` in a write transaction and commits it.
    pub(crate) async fn write<T>(&self, change: impl AsyncFnOnce(&mut dyn Tx) -> AppResult<T>) -> AppResult<T> {
        let mut tx = self.db.write().await?;
        let value = change(&mut *tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Runs `query` in a read-only transaction.
    pub(crate) async fn read<T>(&self, query: impl AsyncFnOnce(&mut dyn Tx) -> AppResult<T>) -> AppResult<T> {
        let mut tx = self.db.read().await?;
        query(&mut *tx).await
    }
}

fn replay<T>(stored: IdempotencyRecord, fingerprint: &str) -> AppResult<Written<T>> {
    if stored.fingerprint == fingerprint {
        Ok(Written::Replayed(StoredReply { status: stored.status, body: stored.body }))
    } else {
        Err(AppError::IdempotencyKeyReused)
    }
}

pub(crate) fn now() -> Timestamp {
    chrono::Utc::now()
}
