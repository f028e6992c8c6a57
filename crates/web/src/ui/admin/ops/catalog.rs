//! Catalog (`/admin/catalog`): the category tree, SKU search with paging, a new product with
//! its first SKU, and one SKU's page: the product, the SKU editor (prices typed in ¥ and sent
//! in 分), and a store's price override and availability.

use std::collections::{HashMap, HashSet};

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_app::{App, AppResult, Ctx};
use quanyu_domain::{
    authz::Permission,
    catalog::{Category, ProductKind, Sku},
    ids::{CategoryId, SkuId, StoreId},
    org::StoreKind,
};
use quanyu_store::SkuFilter;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    export::{self, EXPORT_PAGE},
    failed, guard,
    paging::{PageParams, pager, query_string},
    places::Places,
    text_param, uuid_param,
};
use crate::{
    AppState,
    routes::catalog::{ProductOut, SkuOut, StorePricingOut},
    ui::{
        admin::page,
        page::{Staff, UiError},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct SkuQuery {
    q: Option<String>,
    category_id: Option<String>,
    barcode: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

impl SkuQuery {
    fn filter(&self) -> quanyu_app::AppResult<SkuFilter> {
        Ok(SkuFilter {
            product_id: None,
            category_id: uuid_param(self.category_id.as_deref(), "category_id")?.map(CategoryId::from_uuid),
            barcode: text_param(&self.barcode),
            search: text_param(&self.q),
            sort: quanyu_app::parse_sort(self.page.sort())?.into(),
        })
    }

    fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            ("q", self.q.as_deref().unwrap_or("")),
            ("category_id", self.category_id.as_deref().unwrap_or("")),
            ("barcode", self.barcode.as_deref().unwrap_or("")),
        ]
    }
}

/// The SKUs behind `ids`, each with its product's name, by id (one query per page of rows).
pub async fn named_skus(
    app: &App,
    ctx: &Ctx,
    ids: impl Iterator<Item = SkuId>,
) -> AppResult<HashMap<SkuId, (Sku, String)>> {
    let ids: Vec<SkuId> = ids.collect::<HashSet<_>>().into_iter().collect();
    Ok(app.skus_by_id(ctx, &ids).await?.into_iter().map(|(sku, product)| (sku.id, (sku, product))).collect())
}

/// An SKU as the tables show it: the API's shape plus `product_name` and a `label` that reads on
/// its own (`泰国哈密瓜 · 散装称重`: demo SKUs are named by their variant).
pub fn sku_value(sku: &Sku, product_name: &str) -> Value {
    minijinja::context! { product_name, label => sku_label(sku, product_name), ..Value::from_serialize(SkuOut::from(sku)) }
}

/// `泰国哈密瓜 · 散装称重`, or the SKU's own name when it already says the product.
pub fn sku_label(sku: &Sku, product_name: &str) -> String {
    if sku.name.contains(product_name) { sku.name.clone() } else { format!("{product_name} · {}", sku.name) }
}

/// The table value of `id`, if it names an SKU.
pub fn sku_of(named: &HashMap<SkuId, (Sku, String)>, id: SkuId) -> Option<Value> {
    named.get(&id).map(|(sku, product)| sku_value(sku, product))
}

/// A category with its depth in the tree, in tree order.
#[derive(Debug, Serialize)]
struct TreeRow {
    id: String,
    name: String,
    depth: usize,
    /// `生鲜 / 水果`.
    path: String,
}

/// The categories in tree order: each parent before its children, siblings in the order given
/// (the use case returns them by sort order).
fn tree(categories: &[Category]) -> Vec<TreeRow> {
    let mut children: HashMap<Option<CategoryId>, Vec<&Category>> = HashMap::new();
    for category in categories {
        children.entry(category.parent_id).or_default().push(category);
    }
    let mut rows = Vec::with_capacity(categories.len());
    // Depth-first from the roots; the store forbids cycles, so this ends.
    let mut stack: Vec<(&Category, usize, String)> =
        children.get(&None).into_iter().flatten().rev().map(|c| (*c, 0, c.name.clone())).collect();
    while let Some((category, depth, path)) = stack.pop() {
        for child in children.get(&Some(category.id)).into_iter().flatten().rev() {
            stack.push((child, depth + 1, format!("{path} / {}", child.name)));
        }
        rows.push(TreeRow { id: category.id.to_string(), name: category.name.clone(), depth, path });
    }
    rows
}

/// `/admin/catalog`: categories, SKU search, new product.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<SkuQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "catalog")?;
    let ctx = &staff.ctx;
    let filter = query.filter().map_err(failed(&staff))?;
    let listing = state.app.list_skus(ctx, filter, query.page.cursor(), None).await.map_err(failed(&staff))?;
    let categories = state.app.list_categories(ctx).await.map_err(failed(&staff))?;
    let named = named_skus(&state.app, ctx, listing.items.iter().map(|s| s.id)).await.map_err(failed(&staff))?;
    let pairs = query.pairs();
    let pager = pager("/admin/catalog", &pairs, &query.page, listing.next_cursor.as_ref().map(|c| c.0.as_str()));
    let context = minijinja::context! {
        items => listing.items.iter().map(|s| sku_of(&named, s.id).unwrap_or_else(|| sku_value(s, ""))).collect::<Vec<_>>(),
        pager => Value::from_serialize(&pager),
        query => minijinja::context! { q => query.q, category_id => query.category_id, barcode => query.barcode },
        export_href => format!("/admin/catalog/export.csv{}", query_string(&query.page.with_sort(&pairs))),
        sorts => query.page.sort_links("/admin/catalog", &pairs, &["code", "name", "base_price"]),
        categories => Value::from_serialize(tree(&categories)),
        product_kinds => ProductKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        can_edit_catalog => ctx.actor.can(Permission::ManageCatalog),
    };
    Ok(page(&staff, "admin/catalog.html", "catalog", context)?.into_response())
}

/// `/admin/catalog/export.csv`: every SKU the search matches, prices in yuan.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<SkuQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "catalog")?;
    let filter = query.filter().map_err(failed(&staff))?;
    let header = [
        "code",
        "barcode",
        "name",
        "unit",
        "sold_by_weight",
        "base_price",
        "store_price",
        "online_price",
        "member_price",
        "cost_price",
        "online_only",
        "status",
    ]
    .map(str::to_owned)
    .to_vec();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    let fetch = move |cursor: Option<String>| {
        let (app, ctx, filter) = (app.clone(), ctx.clone(), filter.clone());
        async move { app.list_skus(&ctx, filter, cursor.as_deref(), Some(EXPORT_PAGE)).await }
    };
    let price = |m: Option<quanyu_domain::Money>| m.map(|m| export::yuan(m.fen())).unwrap_or_default();
    let row = move |s: &Sku| {
        vec![
            s.code.clone(),
            export::cell(s.barcode.as_ref().map(|b| b.as_str().to_owned())),
            s.name.clone(),
            s.unit.clone(),
            s.sold_by_weight.to_string(),
            export::yuan(s.prices.base.fen()),
            price(s.prices.store),
            price(s.prices.online),
            price(s.prices.member),
            price(s.prices.cost),
            s.online_only.to_string(),
            s.status.as_str().to_owned(),
        ]
    };
    export::csv("skus.csv", header, fetch, row).await.map_err(failed(&staff))
}

#[derive(Debug, Default, Deserialize)]
pub struct SkuPageQuery {
    /// The store whose price override is shown; default the viewer's first store.
    store_id: Option<String>,
}

/// `/admin/catalog/skus/{id}`: the product, the SKU editor and one store's prices.
pub async fn sku(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<Uuid>,
    Query(query): Query<SkuPageQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "catalog")?;
    let ctx = &staff.ctx;
    let sku = state.app.get_sku(ctx, SkuId::from_uuid(id)).await.map_err(failed(&staff))?;
    let (product, siblings) = state.app.get_product(ctx, sku.product_id).await.map_err(failed(&staff))?;
    let categories = state.app.list_categories(ctx).await.map_err(failed(&staff))?;
    let places = Places::load(&state.app, ctx).await.map_err(failed(&staff))?;
    let chosen = uuid_param(query.store_id.as_deref(), "store_id").map_err(failed(&staff))?;
    let store_id = chosen.map(StoreId::from_uuid).or_else(|| {
        let selling = places.stores.iter().find(|s| s.kind == StoreKind::Store);
        selling.or(places.stores.first()).map(|s| s.id)
    });
    let pricing = match store_id {
        Some(store_id) => Some(state.app.store_pricing(ctx, store_id, sku.id).await.map_err(failed(&staff))?),
        None => None,
    };
    // Prices as the editor's inputs show them: yuan with two decimals, typed back in the same way.
    let yuan = |m: Option<quanyu_domain::Money>| m.map(|m| export::yuan(m.fen())).unwrap_or_default();
    let settings = pricing.as_ref().and_then(|p| p.settings.as_ref());
    let price_text = minijinja::context! {
        base => export::yuan(sku.prices.base.fen()),
        store => yuan(sku.prices.store),
        online => yuan(sku.prices.online),
        member => yuan(sku.prices.member),
        cost => yuan(sku.prices.cost),
        override_price => yuan(settings.and_then(|s| s.price)),
        override_member => yuan(settings.and_then(|s| s.member_price)),
    };
    let context = minijinja::context! {
        price_text,
        sku => Value::from_serialize(SkuOut::from(&sku)),
        product => Value::from_serialize(ProductOut::new(&product, Some(&siblings))),
        categories => Value::from_serialize(tree(&categories)),
        category_name => categories.iter().find(|c| c.id == product.category_id).map(|c| c.name.clone()),
        product_kinds => ProductKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        pricing => pricing.as_ref().map(|p| Value::from_serialize(StorePricingOut::from(p))),
        store_id => store_id.map(|s| s.to_string()),
        can_edit_catalog => ctx.actor.can(Permission::ManageCatalog),
        can_set_prices => ctx.actor.can(Permission::ManageStorePrices),
        ..places.context()
    };
    Ok(page(&staff, "admin/catalog_sku.html", "catalog", context)?.into_response())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn the_tree_puts_parents_before_children() {
        let category = |name: &str, parent: Option<CategoryId>, sort_order| Category {
            id: CategoryId::new(),
            parent_id: parent,
            name: name.into(),
            sort_order,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let fresh = category("生鲜", None, 1);
        let fruit = category("水果", Some(fresh.id), 1);
        let dairy = category("乳品", None, 2);
        let rows = tree(&[dairy.clone(), fruit, fresh]);
        let names: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.depth)).collect();
        assert_eq!(names, [("乳品", 0), ("生鲜", 0), ("水果", 1)]);
        assert_eq!(rows[2].path, "生鲜 / 水果");
    }
}
