//! Stock documents with their lines and timeline, and reorder policies. A save is
//! compare-and-set on the revision the caller read.

use async_trait::async_trait;
use quanyu_domain::{
    documents::{DocumentKind, DocumentLine, DocumentStatus, StockDocument},
    ids::{DocumentId, SkuId, StaffId, StoreId},
    inventory::StockLevels,
};
use sqlx::Row as _;
use uuid::Uuid;

use super::{super::SqlTx, inventory::levels, rows::Row};
use crate::{DocumentFilter, DocumentRepo, DocumentStep, Page, StockPolicy, StoreError, StoreResult};

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

fn line(row: &Row) -> StoreResult<DocumentLine> {
    Ok(DocumentLine {
        line_no: row.try_get("line_no")?,
        sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
        quantity: row.try_get("quantity")?,
        approved: row.try_get("approved")?,
        shipped: row.try_get("shipped")?,
        received: row.try_get("received")?,
        counted: row.try_get("counted")?,
        book: row.try_get("book")?,
        reason: row.try_get("reason")?,
    })
}

fn document(row: &Row, lines: Vec<DocumentLine>) -> StoreResult<StockDocument> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let source: Option<Uuid> = row.try_get("source_store_id")?;
    let created_by: Option<Uuid> = row.try_get("created_by")?;
    Ok(StockDocument {
        id: DocumentId::from_uuid(row.try_get("id")?),
        kind: DocumentKind::parse(&kind).map_err(|e| corrupt("kind", e))?,
        number: row.try_get("number")?,
        store_id: StoreId::from_uuid(row.try_get("store_id")?),
        source_store_id: source.map(StoreId::from_uuid),
        supplier: row.try_get("supplier")?,
        status: DocumentStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        revision: row.try_get("revision")?,
        note: row.try_get("note")?,
        lines,
        created_by: created_by.map(StaffId::from_uuid),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl SqlTx {
    async fn document_lines(&mut self, id: DocumentId) -> StoreResult<Vec<DocumentLine>> {
        let found = sqlx::query("SELECT * FROM stock_document_lines WHERE document_id = $1 ORDER BY line_no")
            .bind(id.as_uuid())
            .fetch_all(&mut *self.tx)
            .await?;
        found.iter().map(line).collect()
    }

    async fn put_document_line(&mut self, id: DocumentId, l: &DocumentLine, insert: bool) -> StoreResult<()> {
        let sql = if insert {
            "INSERT INTO stock_document_lines (document_id, line_no, sku_id, quantity, approved, shipped, received, \
             counted, book, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        } else {
            "UPDATE stock_document_lines SET sku_id = $3, quantity = $4, approved = $5, shipped = $6, received = $7, \
             counted = $8, book = $9, reason = $10 WHERE document_id = $1 AND line_no = $2"
        };
        sqlx::query(sql)
            .bind(id.as_uuid())
            .bind(l.line_no)
            .bind(l.sku_id.as_uuid())
            .bind(l.quantity)
            .bind(l.approved)
            .bind(l.shipped)
            .bind(l.received)
            .bind(l.counted)
            .bind(l.book)
            .bind(&l.reason)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl DocumentRepo for SqlTx {
    async fn insert_document(&mut self, d: &StockDocument) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO stock_documents (id, kind, number, store_id, source_store_id, supplier, status, note, \
             created_by, created_at, updated_at, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(d.id.as_uuid())
        .bind(d.kind.as_str())
        .bind(&d.number)
        .bind(d.store_id.as_uuid())
        .bind(d.source_store_id.map(|s| s.as_uuid()))
        .bind(&d.supplier)
        .bind(d.status.as_str())
        .bind(&d.note)
        .bind(d.created_by.map(|s| s.as_uuid()))
        .bind(d.created_at)
        .bind(d.updated_at)
        .bind(d.revision)
        .execute(&mut *self.tx)
        .await?;
        for l in &d.lines {
            self.put_document_line(d.id, l, true).await?;
        }
        Ok(())
    }

    async fn get_document(&mut self, id: DocumentId) -> StoreResult<Option<StockDocument>> {
        let row = sqlx::query("SELECT * FROM stock_documents WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let lines = self.document_lines(id).await?;
        document(&row, lines).map(Some)
    }

    async fn update_document(&mut self, d: &StockDocument) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE stock_documents SET status = $3, source_store_id = $4, note = $5, updated_at = $6 \
             WHERE id = $1 AND revision = $2",
        )
        .bind(d.id.as_uuid())
        .bind(d.revision)
        .bind(d.status.as_str())
        .bind(d.source_store_id.map(|s| s.as_uuid()))
        .bind(&d.note)
        .bind(d.updated_at)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for l in &d.lines {
            self.put_document_line(d.id, l, false).await?;
        }
        Ok(true)
    }

    async fn claim_document(&mut self, id: DocumentId, revision: i64) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE stock_documents SET revision = revision + 1 WHERE id = $1 AND revision = $2")
            .bind(id.as_uuid())
            .bind(revision)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_documents(&mut self, filter: &DocumentFilter, page: Page) -> StoreResult<Vec<StockDocument>> {
        // The status list is the only variable part: one placeholder per status, after the
        // fixed ones.
        let statuses: String = (0..filter.statuses.len()).map(|i| format!("${}", i + 7)).collect::<Vec<_>>().join(", ");
        let status_clause = if statuses.is_empty() { String::new() } else { format!("AND status IN ({statuses}) ") };
        let sql = format!(
            "SELECT * FROM stock_documents WHERE \
             ($1 IS NULL OR store_id = $1 OR source_store_id = $1) \
             AND ($2 IS NULL OR store_id IN (SELECT id FROM stores WHERE region_id = $2) \
                  OR source_store_id IN (SELECT id FROM stores WHERE region_id = $2)) \
             AND ($3 IS NULL OR store_id = $3) AND ($4 IS NULL OR kind = $4) {status_clause}\
             AND ($5 IS NULL OR id > $5) ORDER BY id LIMIT $6"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.place.store_id.map(|s| s.as_uuid()))
            .bind(filter.place.region_id.map(|r| r.as_uuid()))
            .bind(filter.destination.map(|s| s.as_uuid()))
            .bind(filter.kind.map(|k| k.as_str()))
            .bind(page.after)
            .bind(page.sql_limit());
        for status in &filter.statuses {
            query = query.bind(status.as_str());
        }
        let found = query.fetch_all(&mut *self.tx).await?;
        let mut documents = Vec::with_capacity(found.len());
        for row in &found {
            let id = DocumentId::from_uuid(row.try_get("id")?);
            let lines = self.document_lines(id).await?;
            documents.push(document(row, lines)?);
        }
        Ok(documents)
    }

    async fn append_document_step(&mut self, step: &DocumentStep) -> StoreResult<()> {
        self.append_step(step).await
    }

    async fn document_steps(&mut self, id: DocumentId) -> StoreResult<Vec<DocumentStep>> {
        self.steps(id).await
    }

    async fn put_stock_policy(&mut self, p: &StockPolicy) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO stock_policies (store_id, sku_id, reorder_point, target, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (store_id, sku_id) DO UPDATE SET \
             reorder_point = excluded.reorder_point, target = excluded.target, updated_at = excluded.updated_at",
        )
        .bind(p.store_id.as_uuid())
        .bind(p.sku_id.as_uuid())
        .bind(p.reorder_point)
        .bind(p.target)
        .bind(p.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn delete_stock_policy(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM stock_policies WHERE store_id = $1 AND sku_id = $2")
            .bind(store_id.as_uuid())
            .bind(sku_id.as_uuid())
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn stock_policies(&mut self, store_id: StoreId, page: Page) -> StoreResult<Vec<(StockPolicy, StockLevels)>> {
        let found = sqlx::query(
            "SELECT p.store_id, p.sku_id, p.reorder_point, p.target, p.updated_at, \
             COALESCE(l.on_hand, 0) AS on_hand, COALESCE(l.reserved, 0) AS reserved, \
             COALESCE(l.committed, 0) AS committed, COALESCE(l.unavailable, 0) AS unavailable, \
             COALESCE(l.in_transit, 0) AS in_transit \
             FROM stock_policies p LEFT JOIN stock_levels l ON l.store_id = p.store_id AND l.sku_id = p.sku_id \
             WHERE p.store_id = $1 AND ($2 IS NULL OR p.sku_id > $2) ORDER BY p.sku_id LIMIT $3",
        )
        .bind(store_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        found
            .iter()
            .map(|row| {
                let policy = StockPolicy {
                    store_id: StoreId::from_uuid(row.try_get("store_id")?),
                    sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
                    reorder_point: row.try_get("reorder_point")?,
                    target: row.try_get("target")?,
                    updated_at: row.try_get("updated_at")?,
                };
                Ok((policy, levels(row, "")?))
            })
            .collect()
    }
}
