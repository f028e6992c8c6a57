//! Reading the audit log: HQ sees every entry; the filter narrows by entity, actor or store.

use quanyu_domain::authz::Permission;
use quanyu_store::{AuditEntry, AuditFilter};

use crate::{App, AppResult, Ctx, Listing, listing::Cursor};

impl App {
    /// Audit entries, newest first.
    pub async fn list_audit(
        &self,
        ctx: &Ctx,
        filter: AuditFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<AuditEntry>> {
        ctx.require(Permission::ReadAudit)?;
        for (field, value) in
            [("entity_type", &filter.entity_type), ("entity_id", &filter.entity_id), ("action", &filter.action)]
        {
            crate::listing::searchable(field, value.as_deref())?;
        }
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| Ok(tx.list_audit(&filter, page).await?))?;
        Ok(Listing::from_rows(rows, page, |e| e.id.as_uuid()))
    }
}
