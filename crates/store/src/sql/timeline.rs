//! Timelines: the steps of orders and of stock documents, one table per subject with the same
//! columns, written and read by the same code.

use quanyu_domain::ids::{DocumentId, OrderId, StaffId};
use sqlx::{AssertSqlSafe, Row as _};
use uuid::Uuid;

use super::super::SqlTx;
use crate::{StoreResult, TimelineStep};

/// Something with a timeline: where its steps are kept.
pub(super) trait Subject: Copy + Send + Sync {
    const TABLE: &'static str;
    const COLUMN: &'static str;
    fn uuid(self) -> Uuid;
    fn from_uuid(uuid: Uuid) -> Self;
}

impl Subject for OrderId {
    const TABLE: &'static str = "order_timeline";
    const COLUMN: &'static str = "order_id";
    fn uuid(self) -> Uuid {
        self.as_uuid()
    }
    fn from_uuid(uuid: Uuid) -> Self {
        OrderId::from_uuid(uuid)
    }
}

impl Subject for DocumentId {
    const TABLE: &'static str = "stock_document_steps";
    const COLUMN: &'static str = "document_id";
    fn uuid(self) -> Uuid {
        self.as_uuid()
    }
    fn from_uuid(uuid: Uuid) -> Self {
        DocumentId::from_uuid(uuid)
    }
}

impl SqlTx {
    pub(super) async fn append_step<I: Subject>(&mut self, step: &TimelineStep<I>) -> StoreResult<()> {
        // Table and column are the subject's constants, never input.
        let sql = format!(
            "INSERT INTO {} (id, {}, event, from_status, to_status, actor_id, note, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            I::TABLE,
            I::COLUMN
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(step.id)
            .bind(step.subject.uuid())
            .bind(&step.event)
            .bind(&step.from_status)
            .bind(&step.to_status)
            .bind(step.actor_id.map(|a| a.as_uuid()))
            .bind(&step.note)
            .bind(step.at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// A subject's steps, oldest first.
    pub(super) async fn steps<I: Subject>(&mut self, subject: I) -> StoreResult<Vec<TimelineStep<I>>> {
        let sql = format!("SELECT * FROM {} WHERE {} = $1 ORDER BY id", I::TABLE, I::COLUMN);
        let found = sqlx::query(AssertSqlSafe(sql)).bind(subject.uuid()).fetch_all(&mut *self.tx).await?;
        found
            .iter()
            .map(|row| {
                let actor: Option<Uuid> = row.try_get("actor_id")?;
                Ok(TimelineStep {
                    id: row.try_get("id")?,
                    subject: I::from_uuid(row.try_get(I::COLUMN)?),
                    event: row.try_get("event")?,
                    from_status: row.try_get("from_status")?,
                    to_status: row.try_get("to_status")?,
                    actor_id: actor.map(StaffId::from_uuid),
                    note: row.try_get("note")?,
                    at: row.try_get("at")?,
                })
            })
            .collect()
    }
}
