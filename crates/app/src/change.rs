//! Recording a change: every write appends an audit entry (who, what, when, from where) and an
//! outbox event (for the dispatcher) in the transaction of the change itself.

use std::fmt::Display;

use quanyu_domain::{
    ids::{AuditId, EventId, StoreId},
    time::Timestamp,
};
use quanyu_store::{AuditEntry, FieldChange, OutboxEvent, Tx};

use crate::{AppResult, Ctx, write::now};

/// How one field of a `T` reads in the audit log.
pub(crate) type Field<T> = (&'static str, fn(&T) -> String);

/// A change to one entity, described field by field.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// Past tense, `entity.verb`: `store.created`, `sku.updated`.
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub store_id: Option<StoreId>,
    pub fields: Vec<FieldChange>,
}

impl Change {
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: impl Display) -> Change {
        Change { action, entity_type, entity_id: entity_id.to_string(), store_id: None, fields: Vec::new() }
    }

    pub fn in_store(mut self, store_id: StoreId) -> Change {
        self.store_id = Some(store_id);
        self
    }

    /// Records a field when its value differs (a created field has no `before`).
    pub fn field<V: Display + PartialEq>(mut self, name: &str, before: Option<&V>, after: Option<&V>) -> Change {
        if before != after {
            self.fields.push(FieldChange {
                field: name.to_owned(),
                before: before.map(ToString::to_string),
                after: after.map(ToString::to_string),
            });
        }
        self
    }

    /// Records each listed field of `after` against `before` (`None` for a new entity; `after`
    /// `None` for a removed one).
    pub fn fields<T>(mut self, fields: &[Field<T>], before: Option<&T>, after: Option<&T>) -> Change {
        for (name, show) in fields {
            self = self.field(name, before.map(show).as_ref(), after.map(show).as_ref());
        }
        self
    }

    /// Records a field by comparing an old and a new value.
    pub fn diff<V: Display + PartialEq>(self, name: &str, before: &V, after: &V) -> Change {
        self.field(name, Some(before), Some(after))
    }

    /// Records a created field.
    pub fn set<V: Display + PartialEq>(self, name: &str, after: &V) -> Change {
        self.field(name, None, Some(after))
    }

    /// Appends the audit entry and the outbox event.
    pub async fn record(self, tx: &mut dyn Tx, ctx: Option<&Ctx>) -> AppResult<()> {
        let (entry, event) = self.entries(ctx, now());
        tx.append_audit(&entry).await?;
        tx.append_event(&event).await?;
        Ok(())
    }

    /// Appends the audit entries and outbox events of many changes, in few statements.
    pub async fn record_all(changes: Vec<Change>, tx: &mut dyn Tx, ctx: Option<&Ctx>) -> AppResult<()> {
        let at = now();
        let (entries, events): (Vec<AuditEntry>, Vec<OutboxEvent>) =
            changes.into_iter().map(|change| change.entries(ctx, at)).unzip();
        tx.append_audits(&entries).await?;
        tx.append_events(&events).await?;
        Ok(())
    }

    /// The audit entry and the outbox event of the change, made at `at`.
    fn entries(self, ctx: Option<&Ctx>, at: Timestamp) -> (AuditEntry, OutboxEvent) {
        let ctx = ctx.filter(|c| !c.is_system());
        let payload = serde_json::json!({
            "entity_id": self.entity_id,
            "store_id": self.store_id.map(|s| s.to_string()),
            "changes": self.fields,
        });
        let entry = AuditEntry {
            id: AuditId::new(),
            at,
            actor_id: ctx.map(|c| c.actor.staff_id),
            actor_name: ctx.map_or_else(|| "system".to_owned(), |c| c.actor.username.clone()),
            action: self.action.to_owned(),
            entity_type: self.entity_type.to_owned(),
            entity_id: self.entity_id.clone(),
            store_id: self.store_id,
            ip: ctx.and_then(|c| c.origin.ip.clone()),
            user_agent: ctx.and_then(|c| c.origin.user_agent.clone()),
            changes: self.fields,
        };
        let event = OutboxEvent {
            id: EventId::new(),
            seq: 0,
            at,
            kind: self.action.to_owned(),
            entity_type: self.entity_type.to_owned(),
            entity_id: self.entity_id,
            payload,
        };
        (entry, event)
    }
}

/// An optional value as audit text (empty when absent).
pub(crate) fn opt<T: Display>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(String::new, ToString::to_string)
}
