//! Quanyu's HTTP edge: the `/api/v1` JSON API, authentication, the one error table, OpenAPI,
//! health and metrics, and the server-rendered faces (admin console, POS, H5 mall, guide
//! workbench).
//!
//! This crate owns everything that knows HTTP and JSON: request DTOs and their conversion into
//! the use cases' drafts, response DTOs, the `ApiError` table (stable codes, statuses and
//! messages in zh-CN and en), idempotency-key handling at the edge (fingerprinting the request),
//! session cookies and bearer tokens, the login rate limit, and the generated OpenAPI document.
//!
//! **Architecture invariant:** no SQL and no business rules here: handlers translate, call one
//! use case in `quanyu_app`, and translate back.

mod error;
mod extract;
mod lang;
mod limiter;
mod metrics;
pub mod openapi;
mod routes;
mod shopper;
mod ui;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post, put},
};
use quanyu_app::App;

pub use error::ApiError;
pub use lang::Lang;

/// Options of the HTTP server.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// Mark the session cookie `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
}

/// What every handler can reach. Axum clones it for every request, so it is one shared
/// allocation: one reference count per clone.
#[derive(Clone)]
pub struct AppState(Arc<StateParts>);

/// What [`AppState`]'s clones share.
pub struct StateParts {
    pub app: App,
    pub options: WebOptions,
    login_limiter: limiter::Limiter,
    code_send_limiter: limiter::Limiter,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl std::ops::Deref for AppState {
    type Target = StateParts;

    fn deref(&self) -> &StateParts {
        &self.0
    }
}

/// Largest accepted request body (1 MiB): far above any API request, far below harm.
const BODY_LIMIT: usize = 1024 * 1024;

/// Builds the whole router: `/api/v1`, `/api/openapi.json`, `/api/docs`, `/healthz`, `/metrics`.
pub fn router(app: App, options: WebOptions) -> Router {
    use routes::{
        audiences, audit, auth, catalog, customers, documents, flash, group_buys, ingest, inventory, marketing, orders,
        org, profile, quotes, referral, shop, staff, stored_value, system, tags, till,
    };
    let state = AppState(Arc::new(StateParts {
        app,
        options,
        login_limiter: limiter::Limiter::logins(),
        code_send_limiter: limiter::Limiter::code_sends(),
        metrics: metrics::handle(),
    }));
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/api-tokens", get(auth::list_api_tokens).post(auth::create_api_token))
        .route("/api-tokens/{id}", axum::routing::delete(auth::revoke_api_token))
        .route("/chain", get(org::get_chain).patch(org::update_chain))
        .route("/regions", get(org::list_regions).post(org::create_region))
        .route("/regions/{id}", get(org::get_region).patch(org::update_region))
        .route("/stores", get(org::list_stores).post(org::create_store))
        .route("/stores/nearest", get(org::nearest_stores))
        .route("/stores/{id}", get(org::get_store).patch(org::update_store))
        .route("/stores/{id}/skus", get(catalog::list_store_skus))
        .route(
            "/stores/{id}/skus/{sku_id}",
            put(catalog::put_store_sku).get(catalog::get_store_sku).delete(catalog::delete_store_sku),
        )
        .route("/stores/{id}/stock", get(inventory::list_stock))
        .route("/stores/{id}/stock/movements", post(inventory::record_movement))
        .route("/stores/{id}/stock/{sku_id}", get(inventory::get_stock))
        .route("/stores/{id}/stock/{sku_id}/ledger", get(inventory::stock_ledger))
        .route("/inventory/reconcile", get(inventory::reconcile))
        .route("/stock-documents", get(documents::list_documents).post(documents::create_document))
        .route("/stock-documents/{id}", get(documents::get_document))
        .route("/stock-documents/{id}/steps", post(documents::document_step))
        .route("/stores/{id}/stock-policies", get(documents::list_stock_policies))
        .route(
            "/stores/{id}/stock-policies/{sku_id}",
            axum::routing::put(documents::put_stock_policy).delete(documents::delete_stock_policy),
        )
        .route("/stores/{id}/reorder-suggestions", get(documents::reorder_suggestions))
        .route("/stores/{id}/picking-list", get(orders::picking_list))
        .route("/flash-sales", post(flash::create_flash_sale))
        .route("/flash-sales/{id}", get(flash::get_flash_sale))
        .route("/flash-sales/{id}/reservations", post(flash::reserve))
        .route("/orders", get(orders::list_orders).post(orders::create_order))
        .route("/price-quotes", post(quotes::quote))
        .route("/orders/{id}", get(orders::get_order))
        .route("/orders/{id}/payments", post(orders::pay_order))
        .route("/orders/{id}/lines", post(orders::add_order_lines))
        .route("/orders/{id}/steps", post(orders::advance_order))
        .route("/orders/{id}/cancel", post(orders::cancel_order))
        .route("/orders/{id}/refunds", post(orders::refund_order))
        .route("/staff", get(staff::list_staff).post(staff::create_staff))
        .route("/staff/{id}", get(staff::get_staff).patch(staff::update_staff))
        .route("/staff/{id}/customers/handover", post(customers::hand_over))
        .route("/customers", get(customers::list_customers).post(customers::register_customer))
        .route("/customers/lookup", get(customers::lookup_customer))
        .route("/customers/{id}", get(customers::get_customer))
        .route("/customers/{id}/identities", post(customers::add_identity))
        .route("/customers/{id}/merge", post(customers::merge_customers))
        .route("/customers/{id}/unmerge", post(customers::unmerge_customer))
        .route("/customers/{id}/guide", axum::routing::put(customers::assign_guide))
        .route("/customers/{id}/points", get(customers::points))
        .route("/customers/{id}/birthday", get(customers::get_birthday).put(customers::put_birthday))
        .route("/customers/{id}/memberships", post(customers::buy_membership))
        .route("/member-tiers", get(customers::list_tiers).post(customers::create_tier))
        .route("/audiences/count", post(audiences::count))
        .route("/audiences/lookalike", post(audiences::lookalike))
        .route("/audiences", get(tags::list_audiences).post(tags::save_audience))
        .route("/audiences/{id}", get(tags::get_audience))
        .route("/audiences/{id}/coupons", post(tags::audience_coupons))
        .route("/audiences/{id}/guide-tasks", post(tags::audience_guide_tasks))
        .route("/staff/{id}/tasks", get(tags::guide_tasks))
        .route("/guide-tasks/{id}/done", post(tags::finish_task))
        .route("/tags", get(tags::list_tags).post(tags::create_tag))
        .route("/tag-imports", post(tags::import_tag))
        .route("/customers/{id}/tags", get(tags::customer_tags).post(tags::tag_customer))
        .route("/customers/{id}/untag", post(tags::untag_customer))
        .route("/coupon-templates", get(marketing::list_coupon_templates).post(marketing::create_coupon_template))
        .route("/coupon-templates/{id}", get(marketing::get_coupon_template))
        .route("/coupon-templates/{id}/status", axum::routing::put(marketing::set_coupon_template_status))
        .route("/coupon-templates/{id}/coupons", post(marketing::issue_coupon))
        .route("/customers/{id}/coupons", get(marketing::customer_coupons))
        .route("/coupons/reconcile", get(marketing::reconcile_coupons))
        .route("/coupons/{id}/void", post(marketing::void_coupon))
        .route("/promotions", get(marketing::list_promotions).post(marketing::create_promotion))
        .route("/promotions/{id}", get(marketing::get_promotion))
        .route("/promotions/{id}/end", post(marketing::end_promotion))
        .route("/customers/{id}/invite", post(referral::customer_invite))
        .route("/staff/{id}/invite", post(referral::staff_invite))
        .route("/staff/{id}/performance", get(referral::guide_performance))
        .route("/distributors", post(referral::make_distributor))
        .route("/referral-program", get(referral::get_referral_program).put(referral::put_referral_program))
        .route("/commission-rules", get(referral::get_commission_rules).put(referral::put_commission_rules))
        .route("/invite-tasks", post(referral::create_invite_task))
        .route("/promoters/{id}/referrals", get(referral::list_referrals))
        .route("/promoters/{id}/commissions", get(referral::commissions))
        .route("/promoters/{id}/payouts", post(referral::request_payout))
        .route("/payouts/{id}/settle", post(referral::settle_payout))
        .route("/commissions/reconcile", get(referral::reconcile_commissions))
        .route("/customers/{id}/stored-value", get(stored_value::statement))
        .route("/customers/{id}/stored-value/top-ups", post(stored_value::top_up))
        .route("/stored-value/reconcile", get(stored_value::reconcile))
        .route("/group-offers", post(group_buys::create_group_offer))
        .route("/group-offers/{id}", get(group_buys::get_group_offer))
        .route("/groups/{id}", get(group_buys::get_group))
        .route("/event-sources", get(ingest::list_event_sources).post(ingest::create_event_source))
        .route("/customers/{id}/events", get(ingest::customer_events))
        .route("/customers/{id}/profile", get(profile::profile))
        .route("/scoring-rules", get(profile::get_scoring_rules).put(profile::put_scoring_rules))
        .route("/audiences/export", post(audiences::export))
        .route("/customers/{id}/points/adjustments", post(customers::adjust_points))
        .route("/categories", get(catalog::list_categories).post(catalog::create_category))
        .route("/categories/{id}", get(catalog::get_category).patch(catalog::update_category))
        .route("/brands", get(catalog::list_brands).post(catalog::create_brand))
        .route("/brands/{id}", get(catalog::get_brand).patch(catalog::update_brand))
        .route("/products", get(catalog::list_products).post(catalog::create_product))
        .route("/products/{id}", get(catalog::get_product).patch(catalog::update_product))
        .route("/skus", get(catalog::list_skus).post(catalog::create_sku))
        .route("/skus/{id}", get(catalog::get_sku).patch(catalog::update_sku))
        .route("/audit-log", get(audit::list_audit))
        .route("/stores/{id}/till-items", get(till::till_items))
        .route("/stores/{id}/till-orders", get(till::till_orders))
        .route("/stores/{id}/till-tables", get(till::till_tables))
        .route("/stores/{id}/till-member", get(till::till_member))
        .route("/staff/{id}/customer-book", get(routes::workbench::customer_book))
        .route("/staff/{id}/task-board", get(routes::workbench::task_board))
        .route("/staff/{id}/kpis", get(routes::workbench::kpis))
        .route("/shop/login-codes", post(shop::send_login_code))
        .route("/shop/sessions", post(shop::sign_in))
        .route("/shop/sessions/current", axum::routing::delete(shop::sign_out))
        .route("/shop/me", get(shop::me))
        .route("/shop/price-quotes", post(shop::quote))
        .route("/shop/orders", get(shop::list_orders).post(shop::create_order))
        .route("/shop/orders/{id}", get(shop::get_order))
        .route("/shop/orders/{id}/payments", post(shop::pay_order))
        .route("/shop/coupons", get(shop::list_coupons))
        .route("/shop/coupon-templates/{id}/claims", post(shop::claim_coupon))
        .route("/shop/invite", get(shop::invite))
        .route("/shop/flash-sales/{id}/reservations", post(shop::reserve_flash))
        .route("/reports/sales", get(routes::reports::sales))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .merge(ui::router())
        .route("/v1/track", post(ingest::track))
        .route("/v1/identify", post(ingest::identify))
        .route("/v1/page", post(ingest::page))
        .route("/v1/screen", post(ingest::screen))
        .route("/v1/group", post(ingest::group))
        .route("/v1/alias", post(ingest::alias))
        .route("/v1/batch", post(ingest::batch))
        .route("/api/openapi.json", get(system::openapi_json))
        .route("/api/docs", get(system::docs))
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(error::localize))
        .layer(middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError::route_not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
