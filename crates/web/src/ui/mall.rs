//! The H5 mall face (`/m`), for customers on a phone: find the nearest store, browse and search
//! what it sells online, the product page with the member price, a cart kept in the browser per
//! store, checkout for delivery or pickup with the price breakdown, paying with stored value, my
//! orders (with the pickup code), my coupons and claims, my invite link with its QR code, and
//! flash sales with a countdown. Sign-in is by phone and one-time code.
//!
//! Share links from the guide workbench land here: `/m/i/{code}` (invite), `/m/p/{sku}?ref=`
//! (product) and `/m/c/{template}?ref=` (coupon). Their code is remembered in the `quanyu_ref`
//! cookie for seven days (the last click wins) and sent with registration and orders.
//!
//! Pages read through the shop use cases and render the API's own DTOs; every change goes
//! through `/api/v1/shop` from `mall.js`.

use axum::{
    Router,
    extract::{FromRequestParts, Path, Query, State},
    http::request::Parts,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use minijinja::{Value, context};
use quanyu_app::{AppError, Shopper};
use quanyu_domain::{
    catalog::Category,
    ids::{CategoryId, CouponTemplateId, OrderId, SkuId, StoreId},
    marketing::CouponState,
};
use quanyu_store::SkuFilter;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::page::{UiError, encode, lang_of, render};
use crate::{
    AppState, Lang,
    extract::origin,
    routes::{
        flash::FlashSaleOut, marketing::CouponOut, orders::OrderOut, org::StoreOut, referral::PromoterOut,
        shop::ShopperOut,
    },
    shopper::{CUSTOMER_COOKIE, cookie, ref_cookie, set_cookie},
};

/// The store the visitor shops at, set by `mall.js` when they choose one.
const STORE_COOKIE: &str = "quanyu_mall_store";
/// Products per page of the catalog.
const PAGE_SIZE: u32 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/locate", get(locate))
        .route("/login", get(login))
        .route("/p/{sku_id}", get(product))
        .route("/cart", get(cart))
        .route("/checkout", get(checkout))
        .route("/orders", get(orders))
        .route("/orders/{id}", get(order))
        .route("/me", get(me))
        .route("/coupons", get(coupons))
        .route("/c/{template_id}", get(coupon_claim))
        .route("/invite", get(invite))
        .route("/i/{code}", get(invite_landing))
        .route("/flash/{id}", get(flash_sale))
}

/// Who is looking at a mall page: the reader's language, the signed-in customer if any, the
/// store chosen, and this page's path (to come back to after sign-in or choosing a store).
struct Visitor {
    lang: Lang,
    shopper: Option<Shopper>,
    store_id: Option<StoreId>,
    here: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Visitor, UiError> {
        let lang = lang_of(&parts.headers);
        let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0);
        let here = uri.path_and_query().map_or("/m", |pq| pq.as_str()).to_owned();
        let shopper = match cookie(&parts.headers, CUSTOMER_COOKIE) {
            Some(secret) => match state.app.authenticate_customer(&secret, &origin(parts)).await {
                Ok(shopper) => Some(shopper),
                Err(AppError::Unauthenticated) => None,
                Err(err) => return Err(UiError::api(err, lang)),
            },
            None => None,
        };
        let store_id =
            cookie(&parts.headers, STORE_COOKIE).and_then(|v| v.parse::<Uuid>().ok()).map(StoreId::from_uuid);
        Ok(Visitor { lang, shopper, store_id, here })
    }
}

impl Visitor {
    /// The signed-in customer, or a redirect to the sign-in page that comes back here.
    fn shopper(&self) -> Result<&Shopper, Box<Response>> {
        self.shopper
            .as_ref()
            .ok_or_else(|| Box::new(Redirect::to(&format!("/m/login?next={}", encode(&self.here))).into_response()))
    }

    /// The chosen store if it is still open for the mall.
    async fn store(&self, state: &AppState) -> Option<StoreOut> {
        let store = state.app.shop_store(self.store_id?).await.ok()?;
        (store.status == quanyu_domain::org::StoreStatus::Open).then(|| StoreOut::from(&store))
    }

    /// Renders a mall page with what every one shows: the tab, the store and whether signed in.
    fn page(&self, name: &str, tab: &str, store: Option<&StoreOut>, context: Value) -> Result<Html<String>, UiError> {
        let shared = context! {
            tab => tab,
            here => &self.here,
            here_encoded => encode(&self.here),
            signed_in => self.shopper.is_some(),
            store => store.map(Value::from_serialize),
        };
        render(name, self.lang, context! { ..shared, ..context })
    }
}

fn api_error(err: AppError, lang: Lang) -> Response {
    UiError::api(err, lang).into_response()
}

/// An SKU as a product card and the product page show it.
#[derive(Debug, Serialize)]
struct ItemView {
    sku_id: Uuid,
    product_name: String,
    sku_name: String,
    unit: String,
    sold_by_weight: bool,
    /// 分 (per kg when sold by weight).
    regular_price: i64,
    member_price: i64,
    available: i64,
    image: Option<String>,
    description: Option<String>,
}

impl From<&quanyu_app::ShopItem> for ItemView {
    fn from(item: &quanyu_app::ShopItem) -> Self {
        ItemView {
            sku_id: item.sku.id.as_uuid(),
            product_name: item.product.name.clone(),
            sku_name: item.sku.name.clone(),
            unit: item.sku.unit.clone(),
            sold_by_weight: item.sku.sold_by_weight,
            regular_price: item.price.regular.fen(),
            member_price: item.price.member.fen(),
            available: item.available,
            image: item.sku.images.first().or(item.product.images.first()).map(|i| i.as_str().to_owned()),
            description: item.product.description.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct CategoryView {
    id: Uuid,
    name: String,
}

fn category_view(c: &Category) -> CategoryView {
    CategoryView { id: c.id.as_uuid(), name: c.name.clone() }
}

#[derive(Deserialize)]
struct HomeQuery {
    category: Option<Uuid>,
    q: Option<String>,
    cursor: Option<String>,
}

/// `/m`: the chosen store's goods by category or search; without a store, the store finder.
async fn home(State(state): State<AppState>, visitor: Visitor, Query(query): Query<HomeQuery>) -> Response {
    let Some(store) = visitor.store(&state).await else {
        return match visitor.page("mall/locate.html", "home", None, context! { next => "/m" }) {
            Ok(html) => html.into_response(),
            Err(err) => err.into_response(),
        };
    };
    let categories = match state.app.shop_categories().await {
        Ok(categories) => categories,
        Err(err) => return api_error(err, visitor.lang),
    };
    let top: Vec<&Category> = sorted(categories.iter().filter(|c| c.parent_id.is_none()));
    let chosen = query.category.map(CategoryId::from_uuid).and_then(|id| categories.iter().find(|c| c.id == id));
    // The chosen category's branch: its top-level ancestor, and the leaves under that.
    let root = chosen.map(|c| root_of(&categories, c));
    let leaves: Vec<&Category> = match root {
        Some(root) => {
            sorted(categories.iter().filter(|c| is_leaf(&categories, c) && root_of(&categories, c).id == root.id))
        }
        None => Vec::new(),
    };
    // Goods sit in leaves: a branch shows its first leaf until another is picked.
    let listed = chosen.map(|c| if is_leaf(&categories, c) { c } else { leaves.first().copied().unwrap_or(c) });
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    let filter = SkuFilter { category_id: listed.map(|c| c.id), search: search.clone(), ..SkuFilter::default() };
    let store_id = StoreId::from_uuid(store.id());
    let items = match state.app.shop_catalog(store_id, filter, query.cursor.as_deref(), Some(PAGE_SIZE)).await {
        Ok(items) => items,
        Err(err) => return api_error(err, visitor.lang),
    };
    // Flash sales head the first page of the whole assortment.
    let browsing_all = query.cursor.is_none() && listed.is_none() && search.is_none();
    let flash = if browsing_all {
        match state.app.shop_flash_sales(store_id).await {
            Ok(sales) => sales,
            Err(err) => return api_error(err, visitor.lang),
        }
    } else {
        Vec::new()
    };
    let flash: Vec<Value> = flash
        .iter()
        .map(|(sale, item)| {
            let started = sale.starts_at <= chrono::Utc::now();
            let sale = Value::from_serialize(FlashSaleOut::from(sale));
            context! { sale, started, item => Value::from_serialize(ItemView::from(item)) }
        })
        .collect();
    let next = items.next_cursor.map(|c| {
        let mut href = format!("/m?cursor={}", encode(&c.0));
        if let Some(c) = listed {
            href.push_str(&format!("&category={}", c.id));
        }
        if let Some(q) = &search {
            href.push_str(&format!("&q={}", encode(q)));
        }
        href
    });
    let context = context! {
        top => top.iter().map(|c| category_view(c)).collect::<Vec<_>>(),
        leaves => leaves.iter().map(|c| category_view(c)).collect::<Vec<_>>(),
        root_id => root.map(|c| c.id.as_uuid()),
        listed_id => listed.map(|c| c.id.as_uuid()),
        q => search,
        items => items.items.iter().map(ItemView::from).collect::<Vec<_>>(),
        next => next,
        first_page => query.cursor.is_none(),
        flash,
    };
    match visitor.page("mall/home.html", "home", Some(&store), context) {
        Ok(html) => html.into_response(),
        Err(err) => err.into_response(),
    }
}

fn sorted<'a>(categories: impl Iterator<Item = &'a Category>) -> Vec<&'a Category> {
    let mut out: Vec<&Category> = categories.collect();
    out.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
    out
}

fn is_leaf(all: &[Category], c: &Category) -> bool {
    !all.iter().any(|other| other.parent_id == Some(c.id))
}

fn root_of<'a>(all: &'a [Category], mut c: &'a Category) -> &'a Category {
    // The tree is at most a few levels deep; the bound guards against a corrupt loop.
    for _ in 0..8 {
        match c.parent_id.and_then(|p| all.iter().find(|x| x.id == p)) {
            Some(parent) => c = parent,
            None => break,
        }
    }
    c
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// `/m/locate`: the store finder (geolocation, a typed point or a demo district).
async fn locate(State(state): State<AppState>, visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    let store = visitor.store(&state).await;
    let next = super::page::safe_next(query.next.as_deref()).filter(|n| n.starts_with("/m")).unwrap_or("/m");
    visitor.page("mall/locate.html", "home", store.as_ref(), context! { next }).into_response()
}

/// `/m/login`: sign in with phone and a code sent by SMS.
async fn login(State(state): State<AppState>, visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    let next = super::page::safe_next(query.next.as_deref()).filter(|n| n.starts_with("/m")).unwrap_or("/m/me");
    if visitor.shopper.is_some() {
        return Redirect::to(next).into_response();
    }
    let store = visitor.store(&state).await;
    visitor.page("mall/login.html", "me", store.as_ref(), context! { next }).into_response()
}

#[derive(Deserialize)]
struct RefQuery {
    #[serde(rename = "ref")]
    referrer: Option<String>,
}

/// Remembers a share link's code in `quanyu_ref` when it names a promoter.
async fn remember_ref(state: &AppState, code: Option<&str>, response: &mut Response) {
    let Some(code) = code else { return };
    if let Ok(Some(promoter)) = state.app.promoter_by_invite_code(code).await {
        set_cookie(response, &ref_cookie(&promoter.code, state.options.secure_cookies));
    }
}

/// `/m/p/{sku_id}`: a product as the chosen store sells it, with the member price; a shared
/// link (`?ref=`) attributes to its promoter. Without a store, the finder comes first.
async fn product(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(sku_id): Path<Uuid>,
    Query(query): Query<RefQuery>,
) -> Response {
    let mut response = match visitor.store(&state).await {
        None => Redirect::to(&format!("/m/locate?next={}", encode(&format!("/m/p/{sku_id}")))).into_response(),
        Some(store) => match state.app.shop_item(StoreId::from_uuid(store.id()), SkuId::from_uuid(sku_id)).await {
            Ok(item) => visitor
                .page(
                    "mall/product.html",
                    "home",
                    Some(&store),
                    context! { item => Value::from_serialize(ItemView::from(&item)) },
                )
                .into_response(),
            Err(err) => api_error(err, visitor.lang),
        },
    };
    remember_ref(&state, query.referrer.as_deref(), &mut response).await;
    response
}

/// `/m/cart`: the cart kept in the browser for the chosen store.
async fn cart(State(state): State<AppState>, visitor: Visitor) -> Response {
    let store = visitor.store(&state).await;
    visitor.page("mall/cart.html", "cart", store.as_ref(), context! {}).into_response()
}

/// `/m/checkout`: delivery or pickup, coupons and points, and the price breakdown.
async fn checkout(State(state): State<AppState>, visitor: Visitor) -> Response {
    let shopper = match visitor.shopper() {
        Ok(shopper) => shopper,
        Err(redirect) => return *redirect,
    };
    let Some(store) = visitor.store(&state).await else {
        return Redirect::to("/m/locate?next=/m/cart").into_response();
    };
    let summary = match state.app.shopper_summary(shopper).await {
        Ok(summary) => summary,
        Err(err) => return api_error(err, visitor.lang),
    };
    let coupons = match state.app.shop_coupons(shopper, None, Some(100)).await {
        Ok(listing) => listing.items,
        Err(err) => return api_error(err, visitor.lang),
    };
    let now = chrono::Utc::now();
    let usable: Vec<CouponOut> =
        coupons.iter().filter(|w| w.coupon.state_at(now) == CouponState::Usable).map(CouponOut::from).collect();
    let context = context! {
        shopper => Value::from_serialize(ShopperOut::from(&summary)),
        coupons => usable,
    };
    visitor.page("mall/checkout.html", "cart", Some(&store), context).into_response()
}

#[derive(Deserialize)]
struct PageQuery {
    cursor: Option<String>,
}

/// `/m/orders`: my orders, newest first.
async fn orders(State(state): State<AppState>, visitor: Visitor, Query(query): Query<PageQuery>) -> Response {
    let shopper = match visitor.shopper() {
        Ok(shopper) => shopper,
        Err(redirect) => return *redirect,
    };
    let listing = match state.app.shop_orders(shopper, query.cursor.as_deref(), Some(PAGE_SIZE)).await {
        Ok(listing) => listing,
        Err(err) => return api_error(err, visitor.lang),
    };
    let next = listing.next_cursor.map(|c| format!("/m/orders?cursor={}", encode(&c.0)));
    let orders: Vec<OrderOut> = listing.items.iter().map(|o| OrderOut::new(o, None, None)).collect();
    let store = visitor.store(&state).await;
    visitor.page("mall/orders.html", "orders", store.as_ref(), context! { orders, next }).into_response()
}

/// `/m/orders/{id}`: one of my orders: status, pickup code, breakdown, paying.
async fn order(State(state): State<AppState>, visitor: Visitor, Path(id): Path<Uuid>) -> Response {
    let shopper = match visitor.shopper() {
        Ok(shopper) => shopper,
        Err(redirect) => return *redirect,
    };
    let detail = match state.app.shop_order(shopper, OrderId::from_uuid(id)).await {
        Ok(detail) => detail,
        Err(err) => return api_error(err, visitor.lang),
    };
    let summary = match state.app.shopper_summary(shopper).await {
        Ok(summary) => summary,
        Err(err) => return api_error(err, visitor.lang),
    };
    let order_store = state.app.shop_store(detail.order.store_id).await.ok().map(|s| StoreOut::from(&s));
    let due = detail.order.total.fen() - detail.order.paid.fen();
    let context = context! {
        order => Value::from_serialize(OrderOut::detail(&detail)),
        order_store => order_store.map(Value::from_serialize),
        due,
        shopper => Value::from_serialize(ShopperOut::from(&summary)),
    };
    let store = visitor.store(&state).await;
    visitor.page("mall/order.html", "orders", store.as_ref(), context).into_response()
}

/// `/m/me`: tier, points, stored value and coupons, and the way to my orders, coupons and invite.
async fn me(State(state): State<AppState>, visitor: Visitor) -> Response {
    let shopper = match visitor.shopper() {
        Ok(shopper) => shopper,
        Err(redirect) => return *redirect,
    };
    let summary = match state.app.shopper_summary(shopper).await {
        Ok(summary) => summary,
        Err(err) => return api_error(err, visitor.lang),
    };
    let store = visitor.store(&state).await;
    let context = context! { shopper => Value::from_serialize(ShopperOut::from(&summary)) };
    visitor.page("mall/me.html", "me", store.as_ref(), context).into_response()
}

#[derive(Debug, Serialize)]
struct TemplateView {
    id: Uuid,
    name: String,
}

/// `/m/coupons`: my wallet and the coupons I may claim.
async fn coupons(State(state): State<AppState>, visitor: Visitor) -> Response {
    let shopper = match visitor.shopper() {
        Ok(shopper) => shopper,
        Err(redirect) => return *redirect,
    };
    let (wallet, claimable) =
        match tokio::try_join!(state.app.shop_coupons(shopper, None, Some(100)), state.app.claimable_coupons()) {
            Ok(found) => found,
            Err(err) => return api_error(err, visitor.lang),
        };
    let wallet: Vec<CouponOut> = wallet.items.iter().map(CouponOut::from).collect();
    let claimable: Vec<TemplateView> =
        claimable.iter().map(|t| TemplateView { id: t.id.as_uuid(), name: t.name.clone() }).collect();
    let store = visitor.store(&state).await;
    visitor.page("mall/coupons.html", "me", store.as_ref(), context! { wallet, claimable }).into_response()
}

/// `/m/c/{template_id}`: a shared coupon to claim (`?ref=` attributes the visitor).
async fn coupon_claim(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(template_id): Path<Uuid>,
    Query(query): Query<RefQuery>,
) -> Response {
    let mut response = match state.app.claimable_coupon(CouponTemplateId::from_uuid(template_id)).await {
        Ok(template) => {
            let store = visitor.store(&state).await;
            let view = TemplateView { id: template.id.as_uuid(), name: template.name.clone() };
            visitor.page("mall/claim.html", "me", store.as_ref(), context! { template => view }).into_response()
        }
        Err(err) => api_error(err, visitor.lang),
    };
    remember_ref(&state, query.referrer.as_deref(), &mut response).await;
    response
}

/// `/m/invite`: my invite link and its QR code.
async fn invite(State(state): State<AppState>, visitor: Visitor, headers: axum::http::HeaderMap) -> Response {
    let shopper = match visitor.shopper() {
        Ok(shopper) => shopper,
        Err(redirect) => return *redirect,
    };
    let promoter = match state.app.shop_invite(shopper).await {
        Ok(promoter) => promoter,
        Err(err) => return api_error(err, visitor.lang),
    };
    // The QR code carries an absolute link, so a phone's scanner opens the mall.
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.options.secure_cookies { "https" } else { "http" };
    let url = format!("{scheme}://{host}{}", promoter.qr_payload());
    let context = context! {
        promoter => Value::from_serialize(PromoterOut::from(&promoter)),
        url => &url,
        qr => Value::from_safe_string(super::qr::svg(&url)),
    };
    let store = visitor.store(&state).await;
    visitor.page("mall/invite.html", "me", store.as_ref(), context).into_response()
}

/// `/m/i/{code}`: where an invite link lands: who invites, and the code remembered.
async fn invite_landing(State(state): State<AppState>, visitor: Visitor, Path(code): Path<String>) -> Response {
    let promoter = match state.app.promoter_by_invite_code(&code).await {
        Ok(promoter) => promoter,
        Err(err) => return api_error(err, visitor.lang),
    };
    let store = visitor.store(&state).await;
    let context = context! { inviter => promoter.as_ref().map(|p| p.name.clone()), valid => promoter.is_some() };
    let mut response = visitor.page("mall/invited.html", "home", store.as_ref(), context).into_response();
    if let Some(promoter) = promoter {
        set_cookie(&mut response, &ref_cookie(&promoter.code, state.options.secure_cookies));
    }
    response
}

/// `/m/flash/{id}`: a flash sale with its countdown; reserving turns into a pickup order.
async fn flash_sale(State(state): State<AppState>, visitor: Visitor, Path(id): Path<Uuid>) -> Response {
    let sale = match state.app.shop_flash_sale(id).await {
        Ok(sale) => sale,
        Err(err) => return api_error(err, visitor.lang),
    };
    let (item, sale_store) =
        match tokio::try_join!(state.app.shop_item(sale.store_id, sale.sku_id), state.app.shop_store(sale.store_id)) {
            Ok(found) => found,
            Err(err) => return api_error(err, visitor.lang),
        };
    let context = context! {
        sale => Value::from_serialize(FlashSaleOut::from(&sale)),
        item => Value::from_serialize(ItemView::from(&item)),
        sale_store => Value::from_serialize(StoreOut::from(&sale_store)),
    };
    let store = visitor.store(&state).await;
    visitor.page("mall/flash.html", "home", store.as_ref(), context).into_response()
}
