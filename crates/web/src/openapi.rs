//! The OpenAPI 3.1 document, generated from the handlers' annotations, and a plain HTML page
//! that renders it on the server (no script, no CDN: the docs work offline).

use std::fmt::Write as _;

use utoipa::{
    Modify, OpenApi,
    openapi::{
        RefOr,
        path::Operation,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::routes::{
    audiences, audit, auth, catalog, customers, documents, flash, group_buys, ingest, inventory, marketing, orders,
    org, profile, quotes, referral, reports, shop, staff, stored_value, system, tags, till,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quanyu API",
        description = "Quanyu (全域): stores, catalog, inventory, orders and customers of a retail chain as one business.\n\n\
Money is always an integer number of 分 (1/100 CNY). Errors are `{\"error\":{\"code\",\"message\",\"field\"}}` with the \
message in the language of `Accept-Language` (zh-CN by default, en). Lists return `{\"items\":[…],\"next_cursor\":…}`; pass \
`cursor` to get the next page. Creates honour an `Idempotency-Key` header: a retry with the same key and body gets the \
same response and has no second effect."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    paths(
        system::healthz,
        auth::login, auth::logout, auth::me, auth::create_api_token, auth::list_api_tokens, auth::revoke_api_token,
        org::get_chain, org::update_chain,
        org::list_regions, org::create_region, org::get_region, org::update_region,
        org::list_stores, org::create_store, org::nearest_stores, org::get_store, org::update_store,
        staff::list_staff, staff::create_staff, staff::get_staff, staff::update_staff,
        catalog::list_categories, catalog::create_category, catalog::get_category, catalog::update_category,
        catalog::list_brands, catalog::create_brand, catalog::get_brand, catalog::update_brand,
        catalog::list_products, catalog::create_product, catalog::get_product, catalog::update_product,
        catalog::list_skus, catalog::create_sku, catalog::get_sku, catalog::update_sku,
        catalog::list_store_skus, catalog::get_store_sku, catalog::put_store_sku, catalog::delete_store_sku,
        inventory::record_movement, inventory::list_stock, inventory::get_stock, inventory::stock_ledger,
        inventory::reconcile,
        documents::create_document, documents::list_documents, documents::get_document, documents::document_step,
        documents::list_stock_policies, documents::put_stock_policy, documents::delete_stock_policy,
        documents::reorder_suggestions,
        orders::create_order, orders::list_orders, orders::get_order, orders::pay_order, orders::advance_order,
        orders::cancel_order, orders::refund_order, orders::add_order_lines, orders::picking_list, quotes::quote,
        flash::create_flash_sale, flash::get_flash_sale, flash::reserve,
        customers::register_customer, customers::list_customers, customers::lookup_customer, customers::get_customer,
        customers::add_identity, customers::merge_customers, customers::unmerge_customer, customers::assign_guide, customers::hand_over,
        customers::points, customers::adjust_points, customers::create_tier, customers::list_tiers,
        customers::get_birthday, customers::put_birthday, customers::buy_membership,
        audiences::count, audiences::export, audiences::lookalike,
        marketing::create_coupon_template, marketing::list_coupon_templates, marketing::get_coupon_template,
        marketing::set_coupon_template_status, marketing::issue_coupon, marketing::customer_coupons,
        marketing::void_coupon, marketing::reconcile_coupons,
        marketing::create_promotion, marketing::list_promotions, marketing::get_promotion, marketing::end_promotion,
        referral::customer_invite, referral::staff_invite, referral::make_distributor,
        referral::get_referral_program, referral::put_referral_program,
        referral::get_commission_rules, referral::put_commission_rules, referral::create_invite_task,
        referral::list_referrals, referral::commissions, referral::request_payout, referral::settle_payout,
        referral::reconcile_commissions, referral::guide_performance,
        stored_value::top_up, stored_value::statement, stored_value::reconcile,
        group_buys::create_group_offer, group_buys::get_group_offer, group_buys::get_group,
        ingest::track, ingest::identify, ingest::page, ingest::screen, ingest::group, ingest::alias, ingest::batch,
        ingest::create_event_source, ingest::list_event_sources, ingest::customer_events,
        profile::profile, profile::get_scoring_rules, profile::put_scoring_rules,
        tags::create_tag, tags::list_tags, tags::customer_tags, tags::tag_customer, tags::untag_customer,
        tags::import_tag, tags::save_audience, tags::list_audiences, tags::get_audience,
        tags::audience_coupons, tags::audience_guide_tasks, tags::guide_tasks, tags::finish_task,
        crate::routes::workbench::customer_book, crate::routes::workbench::task_board,
        crate::routes::workbench::kpis,
        audit::list_audit,
        till::till_items, till::till_orders, till::till_tables, till::till_member,
        shop::send_login_code, shop::sign_in, shop::sign_out, shop::me, shop::quote, shop::create_order,
        shop::list_orders, shop::get_order, shop::pay_order, shop::list_coupons, shop::claim_coupon, shop::invite,
        shop::reserve_flash,
        reports::sales,
    ),
    tags(
        (name = "auth", description = "Login, sessions and API tokens"),
        (name = "organisation", description = "HQ, regions and stores"),
        (name = "staff", description = "Staff, roles and scopes"),
        (name = "catalog", description = "Categories, brands, products, SKUs and store prices"),
        (name = "inventory", description = "Stock levels, the stock ledger, movements, documents and reorder policies"),
        (name = "orders", description = "Orders, payments, fulfilment and refunds"),
        (name = "flash sales", description = "秒杀: quota, per-customer limit, batched reservations"),
        (name = "customers", description = "One identity across phone, WeChat, WeCom and member card; merges; guides"),
        (name = "marketing", description = "Coupon templates, wallets and promotions"),
        (name = "referral", description = "老带新 and 分销: invite codes, referrals, commission, payouts, guide sales"),
        (name = "events", description = "Customer events: the Segment / RudderStack HTTP spec, sources, timelines"),
        (name = "audit", description = "Who changed what"),
        (name = "till", description = "收银台: barcode and name lookup priced for a store's till, today's till sales, open table bills"),
        (name = "reports", description = "Sales reports within the caller's scope"),
        (name = "system", description = "Health"),
        (name = "shop", description = "The H5 mall's customer API: sign-in by phone and code, then orders, payment, coupons and invites as oneself (the `quanyu_customer` cookie)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "customer_cookie",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::new("quanyu_customer"),
            )),
        );
    }
}

/// Renders the document as one HTML page: every operation with its parameters, request body
/// and responses, grouped by tag, followed by the schemas.
pub fn render_docs(doc: &utoipa::openapi::OpenApi) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title}</title><style>{STYLE}</style></head><body><main><h1>{title} <small>{version}</small></h1>\
<p class=\"lead\">{description}</p><p><a href=\"/api/openapi.json\">openapi.json</a></p>",
        title = escape(&doc.info.title),
        version = escape(&doc.info.version),
        description = escape(doc.info.description.as_deref().unwrap_or_default()),
    );
    let mut operations: Vec<(String, &str, &str, &Operation)> = Vec::new();
    for (path, item) in doc.paths.paths.iter() {
        let methods: [(&str, &Option<Operation>); 5] = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                let tag = operation.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_default();
                operations.push((tag, method, path.as_str(), operation));
            }
        }
    }
    operations.sort_by(|a, b| (&a.0, a.2, a.1).cmp(&(&b.0, b.2, b.1)));
    let mut current_tag = None;
    for (tag, method, path, operation) in operations {
        if current_tag.as_ref() != Some(&tag) {
            let _ = write!(html, "<h2>{}</h2>", escape(&tag));
            current_tag = Some(tag);
        }
        let summary = operation.summary.as_deref().unwrap_or_default();
        let _ = write!(
            html,
            "<details><summary><code class=\"m {lower}\">{method}</code> <code>{path}</code> {summary}</summary>",
            lower = method.to_lowercase(),
            path = escape(path),
            summary = escape(summary),
        );
        if let Some(description) = &operation.description {
            let _ = write!(html, "<p>{}</p>", escape(description));
        }
        if let Some(parameters) = &operation.parameters
            && !parameters.is_empty()
        {
            html.push_str("<h4>Parameters</h4><ul>");
            for p in parameters {
                let _ = write!(
                    html,
                    "<li><code>{}</code> ({}) {}</li>",
                    escape(&p.name),
                    serde_json::to_value(&p.parameter_in)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    escape(p.description.as_deref().unwrap_or_default())
                );
            }
            html.push_str("</ul>");
        }
        if let Some(body) = &operation.request_body {
            html.push_str("<h4>Request body</h4><ul>");
            for (media, content) in &body.content {
                let _ = write!(html, "<li>{} {}</li>", escape(media), schema_name(&content.schema));
            }
            html.push_str("</ul>");
        }
        html.push_str("<h4>Responses</h4><ul>");
        for (status, response) in &operation.responses.responses {
            let text = match response {
                RefOr::T(r) => {
                    let schema = r.content.values().next().map(|c| schema_name(&c.schema)).unwrap_or_default();
                    format!("{} {}", escape(&r.description), schema)
                }
                RefOr::Ref(r) => escape(&r.ref_location),
            };
            let _ = write!(html, "<li><b>{}</b> {text}</li>", escape(status));
        }
        html.push_str("</ul></details>");
    }
    if let Some(components) = &doc.components {
        html.push_str("<h2>Schemas</h2>");
        for (name, schema) in &components.schemas {
            let json = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                html,
                "<details id=\"schema-{name}\"><summary><code>{name}</code></summary><pre>{}</pre></details>",
                escape(&json),
                name = escape(name)
            );
        }
    }
    html.push_str("</main></body></html>");
    html
}

fn schema_name(schema: &Option<RefOr<utoipa::openapi::schema::Schema>>) -> String {
    match schema {
        Some(RefOr::Ref(r)) => {
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            format!("<a href=\"#schema-{0}\"><code>{0}</code></a>", escape(name))
        }
        Some(RefOr::T(schema)) => {
            format!("<code>{}</code>", escape(&serde_json::to_string(schema).unwrap_or_default()))
        }
        None => String::new(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f7f7f8;color:#1d1d1f}\
main{max-width:960px;margin:0 auto;padding:24px}h1 small{font-size:14px;color:#666}.lead{white-space:pre-line}\
details{background:#fff;border:1px solid #ddd;border-radius:6px;margin:6px 0;padding:6px 10px}\
summary{cursor:pointer}summary:focus-visible{outline:2px solid #0a58ca}code.m{display:inline-block;min-width:56px;\
font-weight:600}.get{color:#0a7}.post{color:#06c}.patch,.put{color:#b60}.delete{color:#c22}\
pre{overflow:auto;background:#f2f2f4;padding:8px}";

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    use super::ApiDoc;
    use crate::ApiError;

    /// What a route's response of `status` says, from the OpenAPI document.
    fn described(path: &str, status: &str) -> String {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        doc["paths"][path]["post"]["responses"][status]["description"].as_str().unwrap_or_default().to_owned()
    }

    /// Both flash-reservation routes (the staff's and the mall's) name every refusal a sale can
    /// answer, by the code the client receives.
    #[test]
    fn flash_reservation_routes_list_every_refusal() {
        for path in ["/api/v1/flash-sales/{id}/reservations", "/api/v1/shop/flash-sales/{id}/reservations"] {
            let conflicts = described(path, "409");
            for refusal in quanyu_app::Refusal::ALL {
                let code = ApiError::from(quanyu_app::AppError::FlashSale(refusal)).code;
                assert!(conflicts.contains(code), "{path} does not list {code}: {conflicts}");
            }
        }
        let shop = "/api/v1/shop/flash-sales/{id}/reservations";
        let reused = ApiError::from(quanyu_app::AppError::IdempotencyKeyReused);
        assert!(described(shop, reused.status.as_str()).contains(reused.code));
        let missing = ApiError::from(quanyu_app::AppError::IdempotencyKeyRequired);
        assert!(described(shop, missing.status.as_str()).contains(missing.code));
    }
}
