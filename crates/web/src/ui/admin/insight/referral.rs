//! Referral and commissions (`/admin/referral`): the referral programme's rewards, the
//! commission rules, promoters with their balances, and payout requests to settle or reject
//! (through the API); promoters and payouts export as CSV.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_store::{PromoterSort, SortOrder};
use serde::{Deserialize, Serialize};

use super::{
    empty_as_none,
    export::{self as csv, CsvPage},
    guard, query_string,
};
use crate::{
    AppState,
    routes::referral::{BucketsOut, CommissionRulesDto, PayoutOut, PromoterOut, ReferralProgramDto},
    ui::{
        admin::{page, sorting},
        page::{Staff, UiError, templates},
    },
};

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ReferralQuery {
    /// `distributors` lists distributors only; every promoter by default.
    #[serde(default, deserialize_with = "empty_as_none")]
    promoters: Option<String>,
    #[serde(default, skip_serializing, deserialize_with = "empty_as_none")]
    promoters_cursor: Option<String>,
    /// The promoters table's order: `name`, `frozen`, `available`, `pending` or `paid_out`
    /// (`-` first for descending); creation order when absent.
    #[serde(default, deserialize_with = "empty_as_none")]
    promoters_sort: Option<String>,
    /// requested (default), paid, rejected or all.
    #[serde(default, deserialize_with = "empty_as_none")]
    payouts: Option<String>,
    #[serde(default, skip_serializing, deserialize_with = "empty_as_none")]
    payouts_cursor: Option<String>,
}

impl ReferralQuery {
    fn distributors_only(&self) -> bool {
        self.promoters.as_deref() == Some("distributors")
    }

    fn promoter_order(&self) -> quanyu_app::AppResult<SortOrder<PromoterSort>> {
        quanyu_app::parse_sort(self.promoters_sort.as_deref())
    }

    fn payout_status(&self) -> Option<&str> {
        match self.payouts.as_deref() {
            None => Some("requested"),
            Some("all") => None,
            Some(other) => Some(other),
        }
    }
}

/// A payout request with who asked, for the table.
#[derive(Serialize)]
struct PayoutRow {
    #[serde(flatten)]
    payout: PayoutOut,
    promoter_name: String,
    promoter_code: String,
}

#[derive(Serialize)]
struct PromoterRow {
    #[serde(flatten)]
    promoter: PromoterOut,
    balance: BucketsOut,
}

const PAGE: u32 = 50;

pub async fn referral(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<ReferralQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "referral")?;
    let (app, ctx) = (&state.app, &staff.ctx);
    let fail = |e| UiError::api(e, lang);
    let program = ReferralProgramDto::from(app.referral_program(ctx).await.map_err(fail)?);
    let rules = CommissionRulesDto::from(app.commission_rules(ctx).await.map_err(fail)?);
    let promoters = app
        .promoters(
            ctx,
            query.distributors_only(),
            query.promoter_order().map_err(fail)?,
            query.promoters_cursor.as_deref(),
            Some(PAGE),
        )
        .await
        .map_err(fail)?;
    let payouts =
        app.payouts(ctx, query.payout_status(), query.payouts_cursor.as_deref(), Some(PAGE)).await.map_err(fail)?;
    let promoter_rows: Vec<PromoterRow> = promoters
        .items
        .iter()
        .map(|(p, b)| PromoterRow { promoter: PromoterOut::from(p), balance: BucketsOut::from(*b) })
        .collect();
    let payout_rows: Vec<PayoutRow> = payouts
        .items
        .iter()
        .map(|(payout, promoter)| PayoutRow {
            payout: PayoutOut::from(payout),
            promoter_name: promoter.name.clone(),
            promoter_code: promoter.code.clone(),
        })
        .collect();
    let templates_on_offer: Vec<(String, String)> = app
        .coupon_templates(ctx, Default::default(), None, Some(200))
        .await
        .map_err(fail)?
        .items
        .into_iter()
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    page(
        &staff,
        "admin/referral.html",
        "referral",
        minijinja::context! {
            program => Value::from_serialize(&program),
            rules => Value::from_serialize(&rules),
            rules_json => serde_json::to_string(&rules).unwrap_or_default(),
            promoters => Value::from_serialize(&promoter_rows),
            promoters_next => promoters.next_cursor.map(|c| c.0),
            payouts => Value::from_serialize(&payout_rows),
            payouts_next => payouts.next_cursor.map(|c| c.0),
            filter => Value::from_serialize(&query),
            promoter_sorts => {
                let unsorted = format!("/admin/referral?{}", query_string(&ReferralQuery { promoters_sort: None, ..query.clone() }));
                sorting::links(unsorted.trim_end_matches('?'), "promoters_sort", query.promoters_sort.as_deref(),
                    &["name", "frozen", "available", "pending", "paid_out"])
            },
            query => query_string(&query),
            coupon_templates => templates_on_offer,
        },
    )
    .map(IntoResponse::into_response)
}

/// `/admin/referral/promoters.csv`: promoters of the filter with their balances.
pub async fn export_promoters(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<ReferralQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "referral")?;
    let header: Vec<String> = [
        "admin-col-name",
        "admin-ref-code",
        "admin-ref-distributor",
        "admin-ref-frozen",
        "admin-ref-available",
        "admin-ref-pending",
        "admin-ref-paid-out",
    ]
    .iter()
    .map(|k| templates().text(lang, k))
    .collect();
    let order = query.promoter_order().map_err(|e| UiError::api(e, lang))?;
    let (app, ctx, only) = (state.app.clone(), staff.ctx.clone(), query.distributors_only());
    let (yes, no) = (templates().text(lang, "admin-yes"), templates().text(lang, "admin-no"));
    csv::export("promoters.csv", &header, move |cursor| {
        let (app, ctx, yes, no) = (app.clone(), ctx.clone(), yes.clone(), no.clone());
        async move {
            let page = app
                .promoters(&ctx, only, order, cursor.as_deref(), Some(500))
                .await
                .map_err(|e| UiError::api(e, lang))?;
            let rows = page
                .items
                .iter()
                .map(|(p, b)| {
                    vec![
                        p.name.clone(),
                        p.code.clone(),
                        if p.distributor { yes.clone() } else { no.clone() },
                        b.frozen.to_yuan_string(),
                        b.available.to_yuan_string(),
                        b.pending.to_yuan_string(),
                        b.paid_out.to_yuan_string(),
                    ]
                })
                .collect();
            Ok::<CsvPage, UiError>((rows, page.next_cursor.map(|c| c.0)))
        }
    })
    .await
}

/// `/admin/referral/payouts.csv`: the payout requests of the status filter, newest first.
pub async fn export_payouts(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<ReferralQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "referral")?;
    let header: Vec<String> = [
        "admin-ref-requested-at",
        "admin-ref-promoter",
        "admin-ref-code",
        "admin-col-amount",
        "admin-col-status",
        "admin-ref-settled-at",
        "admin-order-note",
    ]
    .iter()
    .map(|k| templates().text(lang, k))
    .collect();
    let status = query.payout_status().map(str::to_owned);
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    csv::export("payouts.csv", &header, move |cursor| {
        let (app, ctx, status) = (app.clone(), ctx.clone(), status.clone());
        async move {
            let page = app
                .payouts(&ctx, status.as_deref(), cursor.as_deref(), Some(500))
                .await
                .map_err(|e| UiError::api(e, lang))?;
            let when = |t: quanyu_domain::time::Timestamp| {
                t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string()
            };
            let rows = page
                .items
                .iter()
                .map(|(payout, promoter)| {
                    vec![
                        when(payout.requested_at),
                        promoter.name.clone(),
                        promoter.code.clone(),
                        payout.amount.to_yuan_string(),
                        templates().text(lang, &format!("admin-payout-{}", payout.status.as_str())),
                        payout.settled_at.map(when).unwrap_or_default(),
                        payout.note.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            Ok::<CsvPage, UiError>((rows, page.next_cursor.map(|c| c.0)))
        }
    })
    .await
}
