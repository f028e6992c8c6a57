//! Checkpoints the write-ahead log into the database file from a connection of its own, so the
//! writer never does it inside a commit.
//!
//! Left to itself, SQLite checkpoints on the connection whose commit crosses
//! `wal_autocheckpoint` pages: that commit — and every request waiting on the single writer —
//! then also copies what the log holds into the database file and syncs it. Under a flash sale this
//! was the 99th percentile (a stall of ~150 ms every few seconds; 28 ms with this task), and in
//! event ingest part of each commit. A `PASSIVE` checkpoint from another connection runs beside the writer
//! (WAL allows one checkpointer and one writer at once) on the other core. It cannot restart
//! the log, though: the writer appends while it copies, so it never finds the log fully copied
//! with nobody writing. That is left to the writer's own checkpoint, which by then has only the
//! last fraction of a second to copy; the next transaction starts the log file over.

use std::time::Duration;

use sqlx::{Row as _, SqlitePool};
use tokio::task::JoinHandle;

/// How often the log is checked. A checkpoint with nothing to copy is one cheap statement. Under
/// ingest, passes every 30 ms rather than every 100 ms kept the throughput and lowered a batch's
/// 99th percentile from 60-100 ms to 42-53 ms (six alternating pairs): each pass copies and
/// syncs less at once.
const EVERY: Duration = Duration::from_millis(30);

/// The log's length at which the writer checkpoints (and then restarts the log), in pages:
/// 256 MiB at the 16 KiB pages of a new file (64 MiB in a file made with 4 KiB pages). What the
/// background copying leaves the writer is what was committed since its last pass, but the
/// writer's checkpoint also syncs the log and the file on its own thread; at 40 MiB it did so
/// several times a second under ingest, and 256 MiB was ~9 % more events/s (three alternating
/// pairs). The cost is disk: the log file keeps the length it reached, and a restart after a
/// crash replays up to that much.
pub(super) const WRITER_CHECKPOINT_PAGES: &str = "16384";

/// The background checkpointer; stops when dropped.
pub(super) struct Checkpointer {
    pool: SqlitePool,
    task: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing through `pool` (one read-write connection, used for nothing else).
    pub(super) fn start(pool: SqlitePool) -> Checkpointer {
        Checkpointer { task: tokio::spawn(run(pool.clone())), pool }
    }

    /// Stops the task and closes its connection (the last connection to close checkpoints
    /// whatever is left, as SQLite always does).
    pub(super) async fn stop(&self) {
        self.task.abort();
        self.pool.close().await;
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(pool: SqlitePool) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        tick.tick().await;
        // (busy, pages in the log, pages copied): a failure is retried at the next tick; the
        // writer's own checkpoint keeps the log bounded meanwhile.
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await {
            Ok(row) => {
                let copied: i64 = row.try_get(2).unwrap_or(0);
                if copied > 0 {
                    tracing::trace!(pages = copied, "checkpointed the write-ahead log");
                }
            }
            Err(err) if !pool.is_closed() => tracing::debug!(error = %err, "checkpoint failed; retrying"),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::{Database as _, SqliteDatabase, SqliteDurability};

    #[tokio::test]
    async fn committed_pages_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("checkpoint.db");
        let db = SqliteDatabase::open(&path, SqliteDurability::Normal).await.expect("opening SQLite");
        let mut writer = db.writer.hold().await.expect("the writer");
        sqlx::query("CREATE TABLE blobs (b BLOB)").execute(writer.connection()).await.expect("a table");
        for _ in 0..64 {
            sqlx::query("INSERT INTO blobs VALUES (zeroblob(16384))")
                .execute(writer.connection())
                .await
                .expect("a row");
        }
        drop(writer);
        // A MiB is in the log, far below where the writer checkpoints: only the task copies it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&path).expect("the database file").len() < 1 << 20 {
            assert!(Instant::now() < deadline, "the log was not checkpointed into the database file");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        db.close().await;
    }
}
