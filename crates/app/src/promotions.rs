//! Use cases of promotions (促销活动): HQ defines them (limited-time prices, buy N get M, second
//! item at X%, bundles, 满减 and 满折 ladders) for every store or some, for a window, a channel
//! and an audience; every quote and order of a store prices with those running then, by the
//! engine's stacking policy. A promotion can be ended early; it is never edited in place, so an
//! order's breakdown always names what was in force when it was priced.

use quanyu_domain::{
    authz::Permission,
    catalog::Channel,
    ids::{PromotionId, StoreId},
    marketing::StoredPromotion,
    pricing::{self, Audience, PromotionKind, Scope},
    text,
    time::Timestamp,
};
use quanyu_store::Tx;

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written,
    change::Change,
    coupons::{dedup, parse_channels, stores_exist},
    listing::Cursor,
    write::now,
};

#[derive(Debug, Clone)]
pub struct PromotionDraft {
    pub name: String,
    pub kind: PromotionKind,
    /// Higher wins when promotions compete for a line.
    pub priority: i32,
    /// 不与其他活动同享.
    pub exclusive: bool,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// `everyone`, `members` or `first_order`.
    pub audience: String,
    pub scope: Scope,
    /// `store`, `online`; empty for both.
    pub channels: Vec<String>,
    pub store_ids: Vec<StoreId>,
}

impl App {
    /// Defines a promotion (HQ).
    pub async fn create_promotion(
        &self,
        ctx: &Ctx,
        draft: PromotionDraft,
        reply: Reply<'_, StoredPromotion>,
    ) -> AppResult<Written<StoredPromotion>> {
        ctx.require(Permission::ManageMarketing)?;
        let at = now();
        let promotion = StoredPromotion {
            id: PromotionId::new(),
            name: text::required("name", &draft.name, 64)?,
            kind: draft.kind,
            priority: draft.priority,
            exclusive: draft.exclusive,
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
            audience: Audience::parse(draft.audience.trim())?,
            scope: draft.scope,
            channels: parse_channels(&draft.channels)?,
            stores: dedup(draft.store_ids),
            ended: false,
            created_by: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
            created_at: at,
            updated_at: at,
        };
        promotion.validate()?;
        write_idempotent!(self, ctx, reply, |tx| {
            stores_exist(ctx, tx, &promotion.stores).await?;
            tx.insert_promotion(&promotion).await?;
            Change::new("promotion.created", "promotion", promotion.id)
                .set("name", &promotion.name)
                .record(tx, Some(ctx))
                .await?;
            Ok(promotion)
        })
    }

    pub async fn promotions(
        &self,
        ctx: &Ctx,
        order: quanyu_store::SortOrder<quanyu_store::PromotionSort>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<StoredPromotion>> {
        ctx.require(Permission::ReadCatalog)?;
        let mut sorting = quanyu_store::Sorting::from(order);
        let page = Cursor::sorted_page(cursor, limit, &mut sorting)?;
        let rows = read_tx!(self, |tx| Ok(tx.list_promotions(&sorting, page).await?))?;
        Ok(Listing::from_sorted_rows(rows, page, order, |p| p.id.as_uuid()))
    }

    pub async fn promotion(&self, ctx: &Ctx, id: PromotionId) -> AppResult<StoredPromotion> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| tx.get_promotion(id).await?.ok_or(AppError::NotFound { entity: "promotion" }))
    }

    /// Ends a promotion now (HQ); orders already priced keep what it gave them.
    pub async fn end_promotion(&self, ctx: &Ctx, id: PromotionId) -> AppResult<StoredPromotion> {
        ctx.require(Permission::ManageMarketing)?;
        write_tx!(self, |tx| {
            tx.get_promotion(id).await?.ok_or(AppError::NotFound { entity: "promotion" })?;
            if tx.end_promotion(id, now()).await? {
                Change::new("promotion.ended", "promotion", id).record(tx, Some(ctx)).await?;
            }
            tx.get_promotion(id).await?.ok_or(AppError::NotFound { entity: "promotion" })
        })
    }
}

/// The promotions a cart of `store_id` in `channel` prices with at `at`.
pub(crate) async fn running(
    tx: &mut dyn Tx,
    store_id: StoreId,
    channel: Channel,
    at: Timestamp,
) -> AppResult<Vec<pricing::Promotion>> {
    Ok(tx
        .running_promotions(at)
        .await?
        .iter()
        .filter(|promotion| promotion.runs(store_id, channel, at))
        .map(StoredPromotion::to_pricing)
        .collect())
}
