//! The single customer view (客户360): who the customer is across identifiers, their tier,
//! points, stored value and coupons, home store and guide, RFM scores and lifecycle stage with
//! the day it was entered, and the first page of their timeline (events, orders and other
//! changes, newest first). Also the scoring rules behind RFM and the stages.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::ScoringRules;
use quanyu_audience::{
    LifecycleRules, Rfm, RfmBins,
    lifecycle::{rfm_segment, rfm_segment_code},
};
use quanyu_domain::ids::CustomerId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ListOut, customers::CustomerOut, ingest::EventOut, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, Auth, JsonBody},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct RfmOut {
    /// 1–5 each; recency 0 when the customer never ordered.
    r: i64,
    f: i64,
    m: i64,
    /// One of the eight classic segments: 重要价值客户, 一般挽留客户…
    segment: String,
    /// The segment's code: important_value, general_retain…
    segment_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifecycleOut {
    /// introduction, growth, maturity, decline, silence or churned.
    stage: String,
    /// 引入期, 成长期…
    label: String,
    entered_at: DateTime<Utc>,
    orders_365d: i64,
    /// 分 paid less refunded in the last 365 days.
    spend_365d: i64,
    last_order_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileOut {
    customer: CustomerOut,
    tier: Option<String>,
    points: i64,
    /// 分.
    stored_value: i64,
    /// Coupons usable now.
    usable_coupons: usize,
    tags: Vec<String>,
    rfm: RfmOut,
    lifecycle: LifecycleOut,
    /// Newest first; page on with `GET /api/v1/customers/{id}/events`.
    timeline: ListOut<EventOut>,
}

/// The single customer view.
#[utoipa::path(get, path = "/api/v1/customers/{id}/profile", tag = "customers", responses((status = 200, body = ProfileOut)))]
pub async fn profile(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(profile_of(&state.app, &ctx, CustomerId::from_uuid(id), None).await?))
}

/// The single customer view of `id`, its timeline from `timeline_cursor` (the API's first
/// page, or a later one on the admin console's customer page).
pub async fn profile_of(
    app: &quanyu_app::App,
    ctx: &quanyu_app::Ctx,
    id: CustomerId,
    timeline_cursor: Option<&str>,
) -> Result<ProfileOut, ApiError> {
    let profile = app.customer(ctx, id).await?;
    let id = profile.customer.id;
    let tiers = app.tiers(ctx).await?;
    let tier = tiers.iter().find(|t| Some(t.id) == profile.customer.tier_id).map(|t| t.name.clone());
    let points = app.customer_points(ctx, id, None, Some(1)).await?.balance;
    let stored_value = app.stored_value(ctx, id, None, Some(1)).await?.balance.fen();
    let now = Utc::now();
    let usable_coupons = app
        .customer_coupons(ctx, id, None, Some(500))
        .await?
        .items
        .iter()
        .filter(|w| w.coupon.state_at(now) == quanyu_domain::marketing::CouponState::Usable)
        .count();
    let scores = app.customer_scores(ctx, id).await?;
    let tags = app.customer_tags(ctx, id).await?.into_iter().map(|t| t.name).collect();
    let rfm = |v: i64| u8::try_from(v).unwrap_or(0);
    let scored = Rfm { r: rfm(scores.r), f: rfm(scores.f), m: rfm(scores.m) };
    let events = app.customer_events(ctx, id, timeline_cursor, Some(20)).await?;
    Ok(ProfileOut {
        customer: CustomerOut::profile(&profile),
        tier,
        points,
        stored_value,
        usable_coupons,
        tags,
        rfm: RfmOut {
            r: scores.r,
            f: scores.f,
            m: scores.m,
            segment: rfm_segment(scored).to_owned(),
            segment_code: rfm_segment_code(scored).to_owned(),
        },
        lifecycle: LifecycleOut {
            label: quanyu_app::stage_label(&scores.stage).to_owned(),
            stage: scores.stage,
            entered_at: scores.stage_entered_at,
            orders_365d: scores.orders,
            spend_365d: scores.spend,
            last_order_at: scores.last_order_at,
        },
        timeline: ListOut::from_listing(events, |e| EventOut::from(&e)),
    })
}

/// RFM bins: a value reaching the first threshold scores 5, the second 4, the third 3, the
/// fourth 2, anything else 1 (recency in days since the last order, maxima; frequency in
/// orders and monetary in 分 over the last 365 days, minima).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringRulesDto {
    recency_days: [i64; 4],
    frequency: [i64; 4],
    monetary: [i64; 4],
    maturity_orders: i64,
    decline_after_days: i64,
    silence_after_days: i64,
    churned_after_days: i64,
    introduction_days: i64,
}

impl From<ScoringRules> for ScoringRulesDto {
    fn from(r: ScoringRules) -> Self {
        ScoringRulesDto {
            recency_days: r.bins.recency_days,
            frequency: r.bins.frequency,
            monetary: r.bins.monetary,
            maturity_orders: r.lifecycle.maturity_orders,
            decline_after_days: r.lifecycle.decline_after_days,
            silence_after_days: r.lifecycle.silence_after_days,
            churned_after_days: r.lifecycle.churned_after_days,
            introduction_days: r.lifecycle.introduction_days,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/scoring-rules", tag = "customers", responses((status = 200, body = ScoringRulesDto)))]
pub async fn get_scoring_rules(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    Ok(ok(ScoringRulesDto::from(state.app.scoring_rules(&ctx).await?)))
}

/// Sets the RFM bins and lifecycle thresholds (HQ); the nightly rebuild applies them to every
/// customer.
#[utoipa::path(put, path = "/api/v1/scoring-rules", tag = "customers", request_body = ScoringRulesDto,
    responses((status = 200, body = ScoringRulesDto)))]
pub async fn put_scoring_rules(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<ScoringRulesDto>,
) -> Result<Response, ApiError> {
    let rules = ScoringRules {
        bins: RfmBins { recency_days: input.recency_days, frequency: input.frequency, monetary: input.monetary },
        lifecycle: LifecycleRules {
            maturity_orders: input.maturity_orders,
            decline_after_days: input.decline_after_days,
            silence_after_days: input.silence_after_days,
            churned_after_days: input.churned_after_days,
            introduction_days: input.introduction_days,
        },
    };
    Ok(ok(ScoringRulesDto::from(state.app.set_scoring_rules(&ctx, rules).await?)))
}
