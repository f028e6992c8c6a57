//! Marketing (`/admin/marketing`): coupon templates (list, create of every kind, status
//! changes), promotions (list, create, end) and the price-quote playground, which prices a cart
//! through `POST /api/v1/price-quotes` and shows the engine's explained breakdown. Coupon and
//! promotion lists export as CSV.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_domain::{authz::Permission, order::OrderChannel};
use quanyu_store::{ProductFilter, SkuFilter};
use serde::Deserialize;

use super::{
    empty_as_none,
    export::{self as csv, CsvPage},
    guard, store_names,
};
use crate::{
    AppState,
    routes::marketing::{CouponTemplateOut, PromotionOut},
    ui::{
        admin::{page, sorting},
        page::{Staff, UiError, templates},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct MarketingQuery {
    /// The coupon templates' page.
    #[serde(default, deserialize_with = "empty_as_none")]
    coupons: Option<String>,
    /// The promotions' page.
    #[serde(default, deserialize_with = "empty_as_none")]
    promotions: Option<String>,
    /// The coupon templates' order: `name` or `issued`, `-` first for descending.
    #[serde(default, deserialize_with = "empty_as_none")]
    coupons_sort: Option<String>,
    /// The promotions' order: `name` or `priority`, `-` first for descending.
    #[serde(default, deserialize_with = "empty_as_none")]
    promotions_sort: Option<String>,
}

impl MarketingQuery {
    /// The header links of one of the page's two tables, keeping the other table's order and
    /// coming back to the table (`#anchor`).
    fn sort_links(
        &self,
        param: &str,
        current: Option<&str>,
        other: (&str, Option<&str>),
        anchor: &str,
        keys: &[&str],
    ) -> std::collections::BTreeMap<String, sorting::SortLink> {
        let base = match other {
            (name, Some(value)) => format!("/admin/marketing?{name}={}", crate::ui::page::encode(value)),
            _ => "/admin/marketing".to_owned(),
        };
        let mut links = sorting::links(&base, param, current, keys);
        for link in links.values_mut() {
            link.href.push_str(anchor);
        }
        links
    }
}

const PAGE: u32 = 20;
/// SKUs offered at first in the playground and the scope pickers: the head of the catalog, its
/// core assortment; each picker's search box finds the rest through the API.
const SKU_CHOICES: u32 = 200;

pub async fn marketing(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<MarketingQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "marketing")?;
    let (app, ctx) = (&state.app, &staff.ctx);
    let fail = |e| UiError::api(e, lang);
    let coupon_order = quanyu_app::parse_sort(query.coupons_sort.as_deref()).map_err(fail)?;
    let promotion_order = quanyu_app::parse_sort(query.promotions_sort.as_deref()).map_err(fail)?;
    let coupons = app.coupon_templates(ctx, coupon_order, query.coupons.as_deref(), Some(PAGE)).await.map_err(fail)?;
    let promotions =
        app.promotions(ctx, promotion_order, query.promotions.as_deref(), Some(PAGE)).await.map_err(fail)?;
    let stores: Vec<(String, String)> =
        store_names(app, ctx).await.map_err(fail)?.into_iter().map(|(id, n)| (id.to_string(), n)).collect();
    let skus = sku_choices(app, ctx).await.map_err(fail)?;
    let categories: Vec<(String, String)> =
        app.list_categories(ctx).await.map_err(fail)?.into_iter().map(|c| (c.id.to_string(), c.name)).collect();
    let coupon_rows: Vec<CouponTemplateOut> = coupons.items.iter().map(CouponTemplateOut::from).collect();
    let promotion_rows: Vec<PromotionOut> = promotions.items.iter().map(PromotionOut::from).collect();
    page(
        &staff,
        "admin/marketing.html",
        "marketing",
        minijinja::context! {
            coupons => Value::from_serialize(&coupon_rows),
            coupon_sorts => query.sort_links("coupons_sort", query.coupons_sort.as_deref(),
                ("promotions_sort", query.promotions_sort.as_deref()), "#coupons", &["name", "issued"]),
            promotion_sorts => query.sort_links("promotions_sort", query.promotions_sort.as_deref(),
                ("coupons_sort", query.coupons_sort.as_deref()), "#promotions", &["name"]),
            coupons_sort => query.coupons_sort.clone(),
            promotions_sort => query.promotions_sort.clone(),
            coupons_cursor => query.coupons,
            coupons_next => coupons.next_cursor.map(|c| c.0),
            promotions => Value::from_serialize(&promotion_rows),
            promotions_cursor => query.promotions,
            promotions_next => promotions.next_cursor.map(|c| c.0),
            stores,
            skus => Value::from_serialize(&skus),
            categories,
            channels => OrderChannel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            may_manage => staff.ctx.actor.can(Permission::ManageMarketing),
            strings => Value::from_safe_string(script_strings(lang)),
        },
    )
    .map(IntoResponse::into_response)
}

/// `/admin/marketing/coupons.csv`: every coupon template with its budget and what it issued.
pub async fn export_coupons(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<MarketingQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "marketing")?;
    let header: Vec<String> = [
        "admin-col-name",
        "admin-coupon-rule",
        "admin-coupon-kind",
        "admin-col-status",
        "admin-coupon-budget-count",
        "admin-coupon-budget-value",
        "admin-coupon-per-customer",
        "admin-coupon-issued",
        "admin-coupon-issued-value",
    ]
    .iter()
    .map(|k| templates().text(lang, k))
    .collect();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    let order = quanyu_app::parse_sort(query.coupons_sort.as_deref()).map_err(|e| UiError::api(e, lang))?;
    csv::export("coupon-templates.csv", &header, move |cursor| {
        let (app, ctx) = (app.clone(), ctx.clone());
        async move {
            let page = app
                .coupon_templates(&ctx, order, cursor.as_deref(), Some(500))
                .await
                .map_err(|e| UiError::api(e, lang))?;
            let yuan = |fen: i64| quanyu_domain::Money::from_fen(fen).to_yuan_string();
            let rows = page
                .items
                .iter()
                .map(|t| {
                    let r = &t.rules;
                    vec![
                        t.name.clone(),
                        quanyu_domain::pricing::coupon_rule(r.kind, r.threshold),
                        templates().text(lang, &format!("admin-coupon-kind-{}", kind_of(r.kind))),
                        templates().text(lang, &format!("admin-template-{}", t.status.as_str())),
                        r.budget_count.map(|n| n.to_string()).unwrap_or_default(),
                        r.budget_value.map(|m| yuan(m.fen())).unwrap_or_default(),
                        r.per_customer_limit.map(|n| n.to_string()).unwrap_or_default(),
                        t.issued.to_string(),
                        yuan(t.issued_value.fen()),
                    ]
                })
                .collect();
            Ok::<CsvPage, UiError>((rows, page.next_cursor.map(|c| c.0)))
        }
    })
    .await
}

/// `/admin/marketing/promotions.csv`: every promotion with its window and audience.
pub async fn export_promotions(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<MarketingQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "marketing")?;
    let header: Vec<String> = [
        "admin-col-name",
        "admin-coupon-kind",
        "admin-promo-starts",
        "admin-promo-ends",
        "admin-promo-audience",
        "admin-promo-priority",
        "admin-promo-exclusive",
        "admin-col-status",
    ]
    .iter()
    .map(|k| templates().text(lang, k))
    .collect();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    let order = quanyu_app::parse_sort(query.promotions_sort.as_deref()).map_err(|e| UiError::api(e, lang))?;
    csv::export("promotions.csv", &header, move |cursor| {
        let (app, ctx) = (app.clone(), ctx.clone());
        async move {
            let page =
                app.promotions(&ctx, order, cursor.as_deref(), Some(500)).await.map_err(|e| UiError::api(e, lang))?;
            let text = |key: String| templates().text(lang, &key);
            let when = |t: chrono::DateTime<chrono::Utc>| {
                t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string()
            };
            let rows = page
                .items
                .iter()
                .map(PromotionOut::from)
                .filter_map(|p| serde_json::to_value(&p).ok())
                .map(|p| {
                    let field = |name: &str| p[name].as_str().unwrap_or_default().to_owned();
                    let at = |name: &str| {
                        chrono::DateTime::parse_from_rfc3339(&field(name))
                            .map(|t| when(t.with_timezone(&chrono::Utc)))
                            .unwrap_or_default()
                    };
                    let yes_no = |on: bool| text(if on { "admin-yes" } else { "admin-no" }.to_owned());
                    let status = if p["ended"].as_bool() == Some(true) { "ended" } else { "active" };
                    vec![
                        field("name"),
                        text(format!("admin-promo-kind-{}", field("type"))),
                        at("starts_at"),
                        at("ends_at"),
                        text(format!("admin-promo-audience-{}", field("audience"))),
                        p["priority"].to_string(),
                        yes_no(p["exclusive"].as_bool() == Some(true)),
                        text(format!("admin-template-{status}")),
                    ]
                })
                .collect();
            Ok::<CsvPage, UiError>((rows, page.next_cursor.map(|c| c.0)))
        }
    })
    .await
}

fn kind_of(kind: quanyu_domain::pricing::CouponKind) -> &'static str {
    use quanyu_domain::pricing::CouponKind;
    match kind {
        CouponKind::AmountOff { .. } => "amount_off",
        CouponKind::PercentOff { .. } => "percent_off",
        CouponKind::Delivery { .. } => "delivery",
    }
}

/// The words the playground's script writes, as JSON for a `<script type="application/json">`.
fn script_strings(lang: crate::Lang) -> String {
    let text = |key: &str| serde_json::Value::String(templates().text(lang, key));
    let group = |prefix: &str, names: &[&str]| {
        serde_json::Value::Object(names.iter().map(|n| ((*n).to_owned(), text(&format!("{prefix}{n}")))).collect())
    };
    let strings = serde_json::json!({
        "subtotal": text("admin-col-subtotal"),
        "points": text("admin-quote-points-used"),
        "delivery": text("admin-col-delivery-fee"),
        "total": text("admin-quote-total"),
        "none": text("admin-quote-none"),
        "rejected": text("admin-quote-rejected"),
        "noMember": text("admin-member-not-found"),
        "noCoupons": text("admin-quote-no-coupons"),
        "given": text("admin-quote-given"),
        "noLines": text("admin-quote-no-lines"),
        "bundleTooSmall": text("admin-promo-bundle-too-small"),
        "bundleQuantity": text("admin-promo-bundle-quantity"),
        "bundlePrice": text("admin-promo-bundle-price-invalid"),
        "steps": group("admin-step-", &[
            "activity_price", "member_or_time_limited_price", "item_promotion", "order_promotion", "coupon",
            "points", "delivery",
        ]),
        "reasons": group("admin-reject-", &[
            "threshold_not_met", "out_of_scope", "not_stackable", "expired", "wrong_channel", "wrong_store",
            "no_discount",
        ]),
    });
    // `<` escaped, so no string can close the script element.
    strings.to_string().replace('<', "\\u003c")
}

/// One SKU to pick: weighed goods are quoted in grams.
#[derive(serde::Serialize)]
struct SkuChoice {
    id: String,
    label: String,
    by_weight: bool,
}

/// The head of the catalog as choices labelled "product name variant".
async fn sku_choices(app: &quanyu_app::App, ctx: &quanyu_app::Ctx) -> quanyu_app::AppResult<Vec<SkuChoice>> {
    let skus = app.list_skus(ctx, SkuFilter::default(), None, Some(SKU_CHOICES)).await?.items;
    let products =
        app.list_products(ctx, ProductFilter::default(), None, Some(quanyu_store::Page::MAX_LIMIT)).await?.items;
    Ok(skus
        .into_iter()
        .map(|s| {
            let product = products.iter().find(|p| p.id == s.product_id).map(|p| p.name.as_str()).unwrap_or_default();
            SkuChoice {
                id: s.id.to_string(),
                label: format!("{product} {}", s.name).trim().to_owned(),
                by_weight: s.sold_by_weight,
            }
        })
        .collect())
}
