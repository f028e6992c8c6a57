//! Share (`/guide/share`): the guide picks a product their store sells online or a coupon
//! customers may claim, and gets a link that attributes the sale to them, with a copy button and
//! a QR code drawn on the server. Without a pick the page offers the guide's invite link.
//!
//! The link contract with the mall: `/m/p/{sku_id}?ref={code}` (a product),
//! `/m/c/{template_id}?ref={code}` (a coupon), `/m/i/{code}` (an invitation), where `code` is the
//! guide's promoter code; the mall sends `ref` as the order's `promoter_code`.

use axum::{
    extract::{Query, State},
    http::{HeaderMap, header},
    response::Html,
};
use chrono::Utc;
use minijinja::{Value, context};
use quanyu_app::{AppError, ShareableSku};
use quanyu_domain::{
    ids::{CouponTemplateId, SkuId},
    referral::PromoterOwner,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::failed;
use crate::{
    ApiError, AppState,
    ui::{
        page::{Staff, UiError, encode, templates},
        qr,
    },
};

/// Products a search shows.
const RESULTS: u32 = 8;

#[derive(Debug, Default, Deserialize)]
pub struct ShareParams {
    /// A catalog search.
    q: Option<String>,
    /// The product picked.
    sku: Option<Uuid>,
    /// The coupon picked.
    coupon: Option<Uuid>,
}

#[derive(Serialize)]
struct ProductOut {
    sku_id: Uuid,
    product_name: String,
    sku_name: String,
    unit: String,
    /// 分, the online price in the guide's store.
    price: i64,
    /// This page with the product picked (and the search kept).
    href: String,
}

impl ProductOut {
    fn new(s: &ShareableSku, search: &str) -> Self {
        ProductOut {
            href: format!("/guide/share?sku={}&q={}", s.sku.id, encode(search)),
            sku_id: s.sku.id.as_uuid(),
            product_name: s.product_name.clone(),
            sku_name: s.sku.name.clone(),
            unit: s.sku.unit.clone(),
            price: s.price.regular.fen(),
        }
    }
}

#[derive(Serialize)]
struct CouponOut {
    id: Uuid,
    name: String,
}

/// What the guide is sharing: its link and QR code.
#[derive(Serialize)]
struct Shared {
    /// product, coupon or invite.
    kind: &'static str,
    title: String,
    link: String,
    /// Inline SVG.
    qr: String,
}

pub async fn share(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(params): Query<ShareParams>,
) -> Result<Html<String>, UiError> {
    let (app, ctx, lang) = (&state.app, &staff.ctx, staff.lang);
    let me = ctx.actor.staff_id;
    app.guide_in_reach(ctx, me).await.map_err(failed(lang))?;
    // The guide's promoter code, made on first ask (a guide always has one to share).
    let promoter = app.invite_profile(ctx, PromoterOwner::Staff(me)).await.map_err(failed(lang))?;
    let origin = origin(&headers);
    let code = promoter.code.clone();
    let now = Utc::now();

    let search = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (results, q_error) = match search {
        None => (Vec::new(), None),
        Some(q) => match app.shareable_skus(ctx, q, RESULTS).await {
            Ok(found) => (found.iter().map(|s| ProductOut::new(s, q)).collect(), None),
            Err(err @ AppError::Invalid(_)) => (Vec::new(), Some(ApiError::from(err).message(lang).to_owned())),
            Err(err) => return Err(failed(lang)(err)),
        },
    };
    let coupons: Vec<CouponOut> = app
        .templates_to_share(ctx, now)
        .await
        .map_err(failed(lang))?
        .into_iter()
        .map(|t| CouponOut { id: t.id.as_uuid(), name: t.name })
        .collect();

    let shared = if let Some(sku_id) = params.sku {
        let sku = app.shareable_sku(ctx, SkuId::from_uuid(sku_id)).await.map_err(failed(lang))?;
        let link = format!("{origin}/m/p/{sku_id}?ref={code}");
        Shared { kind: "product", title: format!("{} {}", sku.product_name, sku.sku.name), qr: qr::svg(&link), link }
    } else if let Some(template_id) = params.coupon {
        let template = app
            .templates_to_share(ctx, now)
            .await
            .map_err(failed(lang))?
            .into_iter()
            .find(|t| t.id == CouponTemplateId::from_uuid(template_id))
            .ok_or_else(|| failed(lang)(AppError::NotFound { entity: "coupon_template" }))?;
        let link = format!("{origin}/m/c/{template_id}?ref={code}");
        Shared { kind: "coupon", title: template.name, qr: qr::svg(&link), link }
    } else {
        let link = format!("{origin}{}", promoter.link());
        Shared {
            kind: "invite",
            title: templates().text(lang, "guide-share-invite-title"),
            qr: qr::svg(&format!("{origin}{}", promoter.qr_payload())),
            link,
        }
    };

    staff.render(
        "guide/share.html",
        context! {
            section => "share",
            code,
            q => params.q,
            q_error,
            searched => search.is_some(),
            results => Value::from_serialize(&results),
            coupons => Value::from_serialize(&coupons),
            shared => Value::from_serialize(&shared),
            picked_sku => params.sku.map(|s| s.to_string()),
            picked_coupon => params.coupon.map(|c| c.to_string()),
        },
    )
}

/// `http://host[:port]` as the customer's phone will reach this server, from the request's
/// `Host` (and `X-Forwarded-Proto` behind a TLS proxy); empty, for links relative to this site,
/// when the host is missing or malformed.
fn origin(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let valid = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return String::new();
    }
    let https = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) == Some("https");
    format!("{}://{host}", if https { "https" } else { "http" })
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn links_use_the_host_the_request_came_to() {
        let mut headers = HeaderMap::new();
        assert_eq!(super::origin(&headers), "");
        headers.insert(header::HOST, HeaderValue::from_static("shop.example:8080"));
        assert_eq!(super::origin(&headers), "http://shop.example:8080");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(super::origin(&headers), "https://shop.example:8080");
        headers.insert(header::HOST, HeaderValue::from_static("evil.example/\"><script>"));
        assert_eq!(super::origin(&headers), "");
    }
}
