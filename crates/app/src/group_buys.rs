//! Use cases of group buys (拼团): HQ defines offers; customers open a group or join one by placing
//! an order at the group price (`OrderDraft::group_buy`), which takes a seat; the group forms
//! when every seat is held by a paid order, and only then are its orders fulfilled; a group short
//! of members when its window ends fails, and the sweeper cancels its orders, refunding those
//! paid. The rules are in `quanyu_domain::group_buy`.

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    group_buy::{GroupBuy, GroupBuyOffer, GroupStatus},
    ids::{CustomerId, SkuId, StoreId},
    order::Order,
    text,
    time::Timestamp,
};
use quanyu_store::Tx;

use crate::{App, AppError, AppResult, Ctx, Reply, Written, change::Change, org::store_in_scope, write::now};

#[derive(Debug, Clone)]
pub struct GroupOfferDraft {
    pub name: String,
    pub store_id: Option<StoreId>,
    pub sku_id: Option<SkuId>,
    /// 分 per unit.
    pub group_price: i64,
    pub group_size: i64,
    pub window_minutes: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// Which group an order opens or joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupJoin {
    pub offer_id: uuid::Uuid,
    /// The open group to join; `None` opens a new one with the buyer as its leader.
    pub group_id: Option<uuid::Uuid>,
}

/// A group with the orders holding its seats.
#[derive(Debug, Clone)]
pub struct GroupDetail {
    pub group: GroupBuy,
    pub orders: Vec<quanyu_domain::ids::OrderId>,
}

impl App {
    /// Defines a group-buy offer (HQ).
    pub async fn create_group_offer(
        &self,
        ctx: &Ctx,
        draft: GroupOfferDraft,
        reply: Reply<'_, GroupBuyOffer>,
    ) -> AppResult<Written<GroupBuyOffer>> {
        ctx.require(Permission::ManageMarketing)?;
        let offer = GroupBuyOffer {
            id: uuid::Uuid::now_v7(),
            name: text::required("name", &draft.name, 64)?,
            store_id: draft.store_id.ok_or(DomainError::Required { field: "store_id" })?,
            sku_id: draft.sku_id.ok_or(DomainError::Required { field: "sku_id" })?,
            group_price: Money::from_fen(draft.group_price),
            group_size: draft.group_size,
            window_minutes: draft.window_minutes,
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
            created_by: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
            created_at: now(),
        };
        offer.validate()?;
        write_idempotent!(self, ctx, reply, |tx| {
            store_in_scope(ctx, tx, offer.store_id).await?;
            tx.get_sku(offer.sku_id).await?.ok_or(AppError::UnknownReference { field: "sku_id", entity: "sku" })?;
            tx.insert_group_offer(&offer).await?;
            Change::new("group_offer.created", "group_offer", offer.id)
                .in_store(offer.store_id)
                .set("group_size", &offer.group_size)
                .record(tx, Some(ctx))
                .await?;
            Ok(offer)
        })
    }

    pub async fn group_offer(&self, ctx: &Ctx, id: uuid::Uuid) -> AppResult<GroupBuyOffer> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| offer(tx, id).await)
    }

    pub async fn group(&self, ctx: &Ctx, id: uuid::Uuid) -> AppResult<GroupDetail> {
        ctx.require(Permission::ReadOrders)?;
        read_tx!(self, |tx| {
            let group = tx.get_group(id).await?.ok_or(AppError::NotFound { entity: "group" })?;
            Ok(GroupDetail { orders: tx.group_orders(id).await?, group })
        })
    }

    /// Fails the open groups whose window ended by `at`: their orders are cancelled and those
    /// paid refunded. Returns how many groups failed. Run by the sweeper; safe on several
    /// instances.
    pub async fn expire_group_buys(&self, at: Timestamp) -> AppResult<usize> {
        let expired = read_tx!(self, |tx| Ok(tx.expired_groups(at, 200).await?))?;
        let ctx = Ctx::system();
        let mut failed = 0;
        for id in expired {
            let done = write_tx!(self, |tx| {
                if !tx.set_group_status(id, GroupStatus::Open, GroupStatus::Failed, at).await? {
                    return Ok(false);
                }
                for order in tx.group_orders(id).await? {
                    match crate::orders::cancel_in(tx, &ctx, order, "group_failed").await {
                        Ok(_) | Err(AppError::IllegalTransition(_)) => {}
                        Err(err) => return Err(err),
                    }
                }
                Change::new("group.failed", "group", id).record(tx, Some(&ctx)).await?;
                Ok(true)
            })?;
            failed += usize::from(done);
        }
        Ok(failed)
    }
}

pub(crate) async fn offer(tx: &mut dyn Tx, id: uuid::Uuid) -> AppResult<GroupBuyOffer> {
    tx.get_group_offer(id)
        .await?
        .ok_or(AppError::UnknownReference { field: "group_buy.offer_id", entity: "group_offer" })
}

/// Seats a new order: opens a group with the buyer as leader, or takes a seat of the open group
/// (refused when it is full, closed, or the buyer already holds a seat in it).
pub(crate) async fn seat(
    tx: &mut dyn Tx,
    offer: &GroupBuyOffer,
    join: GroupJoin,
    order: &Order,
    buyer: CustomerId,
    at: Timestamp,
) -> AppResult<GroupBuy> {
    let group = match join.group_id {
        None => {
            if !offer.open_at(at) {
                return Err(AppError::GroupClosed);
            }
            let group = GroupBuy::open(offer, at);
            tx.insert_group(&group).await?;
            group
        }
        Some(group_id) => {
            let group = tx
                .get_group(group_id)
                .await?
                .filter(|g| g.offer_id == offer.id)
                .ok_or(AppError::UnknownReference { field: "group_buy.group_id", entity: "group" })?;
            if group.status != GroupStatus::Open || group.expires_at <= at {
                return Err(AppError::GroupClosed);
            }
            if !tx.take_seat(group_id, at).await? {
                return Err(AppError::GroupFull);
            }
            group
        }
    };
    match tx.insert_group_member(group.id, order.id, buyer, at).await {
        Err(quanyu_store::StoreError::Duplicate(_)) => Err(AppError::AlreadyInGroup),
        other => other.map(|()| group).map_err(AppError::from),
    }
}

/// After a group order is paid: the group forms when every seat is held by a paid order.
pub(crate) async fn on_paid(tx: &mut dyn Tx, ctx: &Ctx, order: &Order) -> AppResult<()> {
    let Some(group) = tx.group_of_order(order.id).await? else { return Ok(()) };
    if group.forms_with(tx.paid_group_orders(group.id).await?)
        && tx.set_group_status(group.id, GroupStatus::Open, GroupStatus::Formed, now()).await?
    {
        Change::new("group.formed", "group", group.id).record(tx, Some(ctx)).await?;
    }
    Ok(())
}

/// Before fulfilment: a group order waits until its group forms.
pub(crate) async fn ensure_formed(tx: &mut dyn Tx, order: &Order) -> AppResult<()> {
    match tx.group_of_order(order.id).await? {
        Some(group) if group.status != GroupStatus::Formed => Err(AppError::GroupNotFormed),
        _ => Ok(()),
    }
}

/// When a group order is cancelled while its group is still open, its seat goes back.
pub(crate) async fn on_cancelled(tx: &mut dyn Tx, order: &Order) -> AppResult<()> {
    if let Some(group) = tx.group_of_order(order.id).await?
        && group.status == GroupStatus::Open
    {
        tx.give_seat(group.id).await?;
        tx.delete_group_member(order.id).await?;
    }
    Ok(())
}
