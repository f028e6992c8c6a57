//! Use cases of customer scores: RFM and the lifecycle stage (引入 → 成长 → 成熟 → 衰退 → 沉默 →
//! 流失) by the rules in `quanyu_audience::lifecycle`, with bins and thresholds HQ can set.
//!
//! Kept current incrementally: a payment adds one order and what it paid to the customer's
//! window, a refund takes its amount off, each in O(1) in the step's own transaction. Time
//! moves scores too (recency decays, the 365-day window slides), so a nightly pass rebuilds
//! every customer from their orders on the columnar engine ([`rebuild`]). A stage change is
//! recorded as `customer.stage_changed` (audited, and on the customer's timeline via the
//! outbox), with the time the stage was entered. The rebuild also recomputes the computed tags
//! (spending power, category preference).

mod rebuild;

pub(crate) use rebuild::{BATCH, Ordinals};

use chrono::Duration;
pub use quanyu_audience::lifecycle::{ScoringRules, WINDOW_DAYS};
use quanyu_audience::{Activity, Stage, lifecycle};
use quanyu_domain::{DomainError, Expected, Money, authz::Permission, ids::CustomerId, order::Order, time::Timestamp};
use quanyu_store::{CustomerScores, ScoreInput, Tx};

use crate::{App, AppError, AppResult, Ctx, change::Change, write::now};

const SETTINGS: &str = "lifecycle";

/// Whole days since 1970-01-01 (UTC): the day numbers scores and rule-tag counts use.
pub(crate) fn day(at: Timestamp) -> i64 {
    at.timestamp().div_euclid(86_400)
}

/// The stage a customer is in and when they entered it.
#[derive(Debug, Clone, Copy)]
struct Entered<'a> {
    stage: &'a str,
    at: Timestamp,
}

impl Entered<'_> {
    fn of(scores: &CustomerScores) -> Entered<'_> {
        Entered { stage: &scores.stage, at: scores.stage_entered_at }
    }
}

/// Scores `input` on `at`; a stage unchanged from `before` keeps the time it was entered.
fn score(input: &ScoreInput, before: Option<&CustomerScores>, rules: &ScoringRules, at: Timestamp) -> CustomerScores {
    let activity = Activity {
        registered_day: day(input.registered_at),
        last_order_day: input.last_order_at.map(day),
        orders: input.orders,
        spend: input.spend,
    };
    row(input, lifecycle::assess(&activity, day(at), rules), before.map(Entered::of), at)
}

/// The stored row of `input` assessed on `at`; a stage unchanged from `before` keeps the time it
/// was entered.
fn row(
    input: &ScoreInput,
    assessment: lifecycle::Assessment,
    before: Option<Entered<'_>>,
    at: Timestamp,
) -> CustomerScores {
    let lifecycle::Assessment { rfm, stage } = assessment;
    let stage = stage.as_str().to_owned();
    let stage_entered_at = before.filter(|b| b.stage == stage).map_or(at, |b| b.at);
    CustomerScores {
        customer_id: input.customer_id,
        orders: input.orders,
        spend: input.spend,
        last_order_at: input.last_order_at,
        r: i64::from(rfm.r),
        f: i64::from(rfm.f),
        m: i64::from(rfm.m),
        stage,
        stage_entered_at,
        updated_at: at,
    }
}

/// Audits a stage change (which the outbox relays onto the timeline).
async fn stage_changed(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    before: Option<&CustomerScores>,
    after: &CustomerScores,
) -> AppResult<()> {
    match stage_change(before.map(|b| b.stage.as_str()), after) {
        Some(change) => change.record(tx, Some(ctx)).await,
        None => Ok(()),
    }
}

/// The change to record when `after` is in another stage than the one stored, `before`.
fn stage_change(before: Option<&str>, after: &CustomerScores) -> Option<Change> {
    let old = before.unwrap_or("");
    (old != after.stage).then(|| {
        Change::new("customer.stage_changed", "customer", after.customer_id).diff(
            "stage",
            &old.to_owned(),
            &after.stage,
        )
    })
}

pub(crate) async fn rules(tx: &mut dyn Tx) -> AppResult<ScoringRules> {
    match tx.get_setting(SETTINGS).await? {
        Some(value) => serde_json::from_value(value).map_err(|e| AppError::Internal(format!("{SETTINGS}: {e}"))),
        None => Ok(ScoringRules::default()),
    }
}

/// Moves a customer's window by one order (`orders` +1 on payment, 0 on refund) and `spend`,
/// and rescores them, in the step's transaction.
pub(crate) async fn on_order(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, orders: i64, spend: Money) -> AppResult<()> {
    let Some(customer_id) = order.customer_id else { return Ok(()) };
    let at = now();
    let rules = rules(tx).await?;
    let before = tx.get_scores(customer_id).await?;
    let input = match &before {
        // O(1): the row holds the window's counts.
        Some(b) => ScoreInput {
            customer_id,
            registered_at: tx.get_customer(customer_id).await?.map_or(at, |c| c.created_at),
            orders: b.orders + orders,
            spend: b.spend + spend.fen(),
            last_order_at: if orders > 0 { Some(order.created_at) } else { b.last_order_at },
        },
        // First time: count the customer's window once (this order included).
        None => tx
            .score_input(customer_id, at - Duration::days(WINDOW_DAYS))
            .await?
            .ok_or(AppError::NotFound { entity: "customer" })?,
    };
    let after = score(&input, before.as_ref(), &rules, at);
    stage_changed(tx, ctx, before.as_ref(), &after).await?;
    tx.put_scores(std::slice::from_ref(&after)).await?;
    Ok(())
}

impl App {
    /// The scoring rules in force.
    pub async fn scoring_rules(&self, ctx: &Ctx) -> AppResult<ScoringRules> {
        ctx.require(Permission::ReadCustomers)?;
        read_tx!(self, |tx| rules(tx).await)
    }

    /// Sets the RFM bins and lifecycle thresholds (HQ); the next rebuild applies them to all.
    pub async fn set_scoring_rules(&self, ctx: &Ctx, rules: ScoringRules) -> AppResult<ScoringRules> {
        ctx.require(Permission::ManageMarketing)?;
        if !rules.bins.is_valid() {
            return Err(DomainError::Malformed { field: "bins", expected: Expected::BinsFromScoreFiveDown }.into());
        }
        if !rules.lifecycle.is_valid() {
            let expected = Expected::LifecycleRules;
            return Err(DomainError::Malformed { field: "lifecycle", expected }.into());
        }
        write_tx!(self, |tx| {
            let value = serde_json::to_value(rules).map_err(|e| AppError::Internal(e.to_string()))?;
            tx.put_setting(SETTINGS, &value, now()).await?;
            Change::new("scoring_rules.set", "setting", SETTINGS).record(tx, Some(ctx)).await?;
            Ok(rules)
        })
    }

    /// A customer's scores and stage, computed now if they have none stored yet.
    pub async fn customer_scores(&self, ctx: &Ctx, id: CustomerId) -> AppResult<CustomerScores> {
        let customer = self.customer(ctx, id).await?.customer;
        let at = now();
        read_tx!(self, |tx| {
            current_scores(tx, &[customer.id], at).await?.pop().ok_or(AppError::NotFound { entity: "customer" })
        })
    }
}

/// The scores of these customers: stored ones in one read, and for customers not scored yet
/// (registered since the last rebuild) computed from their orders now. Unknown ids are left out.
pub(crate) async fn current_scores(
    tx: &mut dyn Tx,
    ids: &[CustomerId],
    at: Timestamp,
) -> AppResult<Vec<CustomerScores>> {
    let mut found = tx.scores_of(ids).await?;
    let missing: Vec<CustomerId> =
        ids.iter().filter(|id| !found.iter().any(|s| s.customer_id == **id)).copied().collect();
    if !missing.is_empty() {
        let rules = rules(tx).await?;
        for id in missing {
            if let Some(input) = tx.score_input(id, at - Duration::days(WINDOW_DAYS)).await? {
                found.push(score(&input, None, &rules, at));
            }
        }
    }
    Ok(found)
}

/// What the audience index and the profile show of a stage.
pub fn stage_label(stage: &str) -> &'static str {
    Stage::parse(stage).map_or("", Stage::label)
}
