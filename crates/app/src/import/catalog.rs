//! Importing and exporting the catalog as one row per SKU. A row names its product; rows with
//! the same product name are variants of one product, created with the first of them unless a
//! product of that name exists (then the SKUs are added to it and the row's product columns are
//! not used). Categories are paths of names (`生鲜/水果`) and brands names; missing ones are
//! created, so a catalog can be brought over from a legacy POS in one file.

use std::collections::{BTreeMap, HashMap, HashSet};

use quanyu_domain::{
    Expected, Money,
    authz::Permission,
    catalog::{Attributes, Brand, Category, ListingStatus, Product, ProductKind, Sku},
    ids::{BrandId, CategoryId, ProductId},
};
use quanyu_store::{ProductFilter, SkuFilter};

use super::{ImportOutcome, ImportSummary, Issues, all_pages, malformed, optional, parse_flag};
use crate::{
    App, AppError, AppResult, Ctx, PriceDraft, ProductDraft, SkuDraft,
    catalog::{
        brand_changes, category_changes, insert_product_with_skus, sku_changes, validate_product_draft,
        validate_sku_draft,
    },
    write::now,
};

/// An SKU as a row. Prices are yuan (`12.30`); for an SKU sold by weight they are per kg.
/// `attributes` is `key=value; key=value`, `images` URLs separated by spaces, flags
/// `true`/`false`. `category`, `brand` and `kind` describe the product when it is new.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkuRow {
    pub line: usize,
    pub product: String,
    /// A path of category names from the root, separated by `/`.
    pub category: String,
    pub brand: String,
    /// `standard` (default), `fresh`, `made_to_order` or `service`.
    pub kind: String,
    pub code: String,
    pub barcode: String,
    pub name: String,
    pub unit: String,
    pub sold_by_weight: String,
    pub attributes: String,
    pub images: String,
    pub base_price: String,
    pub store_price: String,
    pub online_price: String,
    pub member_price: String,
    pub cost_price: String,
    pub online_only: String,
    /// `active` (default) or `inactive`.
    pub status: String,
}

/// A product the file names: one that exists, or one to create from its first row.
struct ProductPlan {
    first_line: usize,
    category: Vec<String>,
    brand: Option<String>,
    kind: Option<ProductKind>,
    existing: Option<ProductId>,
    skus: Vec<Sku>,
}

/// What the catalog holds already, by the names a file uses.
struct Known {
    category_paths: HashMap<Vec<String>, CategoryId>,
    brands: HashMap<String, BrandId>,
    products: HashMap<String, Vec<ProductId>>,
    sku_codes: HashSet<String>,
    barcodes: HashSet<String>,
}

impl App {
    pub async fn import_skus(&self, ctx: &Ctx, rows: Vec<SkuRow>) -> AppResult<ImportOutcome> {
        ctx.require(Permission::ManageCatalog)?;
        let mut known = self.known_catalog().await?;
        let mut issues = Issues::default();
        let (mut seen_codes, mut seen_barcodes) = (HashMap::new(), HashMap::new());
        let mut plans: Vec<(String, ProductPlan)> = Vec::new();
        let mut plan_of: HashMap<String, usize> = HashMap::new();
        for row in &rows {
            let line = row.line;
            let product = issues.check(line, Product::validate_name(&row.product).map_err(|e| rename(e, "product")));
            let category = issues.check(line, category_path(&row.category));
            let brand = issues.check(
                line,
                optional(&row.brand).map(Brand::validate_name).transpose().map_err(|e| rename(e, "brand")),
            );
            let kind = issues.check(line, optional(&row.kind).map(ProductKind::parse).transpose().map_err(Into::into));
            let sku = issues.check(line, sku_of(row));
            if let Some(sku) = &sku {
                issues.unique_in_file(&mut seen_codes, line, "code", &sku.code);
                if known.sku_codes.contains(&sku.code) {
                    issues.push(line, Some("code"), format!("SKU {:?} already exists", sku.code));
                }
                if let Some(barcode) = &sku.barcode {
                    issues.unique_in_file(&mut seen_barcodes, line, "barcode", barcode.as_str());
                    if known.barcodes.contains(barcode.as_str()) {
                        issues.push(line, Some("barcode"), format!("barcode {} is already used", barcode.as_str()));
                    }
                }
            }
            let (Some(product), Some(category), Some(brand), Some(kind), Some(sku)) =
                (product, category, brand, kind, sku)
            else {
                continue;
            };
            let index = match plan_of.get(&product) {
                Some(&index) => {
                    let plan = &plans[index].1;
                    if plan.existing.is_none()
                        && (plan.category != category || plan.brand != brand || plan.kind != kind)
                    {
                        let first = plan.first_line;
                        issues.push(line, Some("product"), format!("category, brand or kind differ from line {first}"));
                    }
                    index
                }
                None => {
                    let existing = match known.products.get(&product).map(Vec::as_slice) {
                        None | Some([]) => None,
                        Some([id]) => Some(*id),
                        Some(_) => {
                            issues.push(line, Some("product"), format!("several products are named {product:?}"));
                            None
                        }
                    };
                    let plan = ProductPlan { first_line: line, category, brand, kind, existing, skus: Vec::new() };
                    plans.push((product.clone(), plan));
                    plan_of.insert(product, plans.len() - 1);
                    plans.len() - 1
                }
            };
            plans[index].1.skus.push(sku);
        }
        if let Some(rejected) = issues.into_rejection() {
            return Ok(rejected);
        }

        let at = now();
        let mut new_categories: Vec<Category> = Vec::new();
        let mut new_brands: Vec<Brand> = Vec::new();
        let mut new_products: Vec<(Product, Vec<Sku>)> = Vec::new();
        let mut added_skus: Vec<Sku> = Vec::new();
        for (name, plan) in plans {
            if let Some(product_id) = plan.existing {
                added_skus.extend(plan.skus.into_iter().map(|sku| Sku { product_id, ..sku }));
                continue;
            }
            let category_id = ensure_category(&mut known, &mut new_categories, &plan.category, at);
            let brand_id = plan.brand.map(|brand| {
                *known.brands.entry(brand.clone()).or_insert_with(|| {
                    let id = BrandId::new();
                    new_brands.push(Brand { id, name: brand, logo_url: None, created_at: at, updated_at: at });
                    id
                })
            });
            let draft = ProductDraft {
                name,
                category_id: Some(category_id),
                brand_id,
                kind: plan.kind.map(|k| k.as_str().to_owned()),
                ..ProductDraft::default()
            };
            let (product, _) = validate_product_draft(draft)?;
            let skus = plan.skus.into_iter().map(|sku| Sku { product_id: product.id, ..sku }).collect();
            new_products.push((product, skus));
        }
        let sku_count = added_skus.len() + new_products.iter().map(|(_, skus)| skus.len()).sum::<usize>();
        let summary = ImportSummary {
            created: vec![
                ("categories", new_categories.len()),
                ("brands", new_brands.len()),
                ("products", new_products.len()),
                ("SKUs", sku_count),
            ],
        };
        write_tx!(self, |tx| {
            for category in &new_categories {
                tx.insert_category(category).await?;
                category_changes("category.created", None, category).record(tx, Some(ctx)).await?;
            }
            for brand in &new_brands {
                tx.insert_brand(brand).await?;
                brand_changes("brand.created", None, brand).record(tx, Some(ctx)).await?;
            }
            for (product, skus) in &new_products {
                insert_product_with_skus(tx, Some(ctx), product, skus).await?;
            }
            for sku in &added_skus {
                tx.insert_sku(sku).await?;
                sku_changes("sku.created", None, sku).record(tx, Some(ctx)).await?;
            }
            Ok(())
        })?;
        Ok(ImportOutcome::Imported(summary))
    }

    /// Every SKU as a row, in creation order, in the layout [`App::import_skus`] reads.
    pub async fn export_skus(&self, ctx: &Ctx) -> AppResult<Vec<SkuRow>> {
        ctx.require(Permission::ReadCatalog)?;
        let (categories, brands, products, skus) = read_tx!(self, |tx| {
            let categories = tx.all_categories().await?;
            let brands = all_pages!(|page| tx.list_brands(None, page), |b: &Brand| b.id.as_uuid());
            let products =
                all_pages!(|page| tx.list_products(&ProductFilter::default(), page), |p: &Product| p.id.as_uuid());
            let skus = all_pages!(|page| tx.list_skus(&SkuFilter::default(), page), |s: &Sku| s.id.as_uuid());
            Ok((categories, brands, products, skus))
        })?;
        let paths: HashMap<CategoryId, String> =
            paths_of(&categories).into_iter().map(|(path, id)| (id, path.join("/"))).collect();
        let brands: HashMap<BrandId, String> = brands.into_iter().map(|b| (b.id, b.name)).collect();
        let products: HashMap<ProductId, Product> = products.into_iter().map(|p| (p.id, p)).collect();
        let yuan = |m: Option<Money>| m.map(Money::to_yuan_string).unwrap_or_default();
        Ok(skus
            .into_iter()
            .map(|sku| {
                let product = products.get(&sku.product_id);
                SkuRow {
                    line: 0,
                    product: product.map(|p| p.name.clone()).unwrap_or_default(),
                    category: product.and_then(|p| paths.get(&p.category_id).cloned()).unwrap_or_default(),
                    brand: product.and_then(|p| p.brand_id).and_then(|b| brands.get(&b).cloned()).unwrap_or_default(),
                    kind: product.map(|p| p.kind.as_str().to_owned()).unwrap_or_default(),
                    barcode: sku.barcode.as_ref().map(|b| b.as_str().to_owned()).unwrap_or_default(),
                    sold_by_weight: sku.sold_by_weight.to_string(),
                    attributes: sku.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "),
                    images: sku.images.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(" "),
                    base_price: sku.prices.base.to_yuan_string(),
                    store_price: yuan(sku.prices.store),
                    online_price: yuan(sku.prices.online),
                    member_price: yuan(sku.prices.member),
                    cost_price: yuan(sku.prices.cost),
                    online_only: sku.online_only.to_string(),
                    status: sku.status.as_str().to_owned(),
                    code: sku.code,
                    name: sku.name,
                    unit: sku.unit,
                }
            })
            .collect())
    }

    async fn known_catalog(&self) -> AppResult<Known> {
        read_tx!(self, |tx| {
            let categories = tx.all_categories().await?;
            let brands = all_pages!(|page| tx.list_brands(None, page), |b: &Brand| b.id.as_uuid());
            let products =
                all_pages!(|page| tx.list_products(&ProductFilter::default(), page), |p: &Product| p.id.as_uuid());
            let skus = all_pages!(|page| tx.list_skus(&SkuFilter::default(), page), |s: &Sku| s.id.as_uuid());
            let mut by_name: HashMap<String, Vec<ProductId>> = HashMap::new();
            for product in products {
                by_name.entry(product.name).or_default().push(product.id);
            }
            Ok(Known {
                category_paths: paths_of(&categories),
                brands: brands.into_iter().map(|b| (b.name, b.id)).collect(),
                products: by_name,
                barcodes: skus.iter().filter_map(|s| s.barcode.as_ref().map(|b| b.as_str().to_owned())).collect(),
                sku_codes: skus.into_iter().map(|s| s.code).collect(),
            })
        })
    }
}

/// The SKU a row describes, for a product to be filled in later.
fn sku_of(row: &SkuRow) -> AppResult<Sku> {
    let price = |field: &'static str, raw: &str| -> AppResult<Option<i64>> {
        Ok(optional(raw).map(|r| Money::parse_yuan(field, r)).transpose()?.map(Money::fen))
    };
    let draft = SkuDraft {
        product_id: None,
        code: row.code.clone(),
        barcode: optional(&row.barcode).map(str::to_owned),
        name: row.name.clone(),
        unit: row.unit.clone(),
        sold_by_weight: parse_flag("sold_by_weight", &row.sold_by_weight)?,
        attributes: parse_attributes(&row.attributes)?,
        images: row.images.split_whitespace().map(str::to_owned).collect(),
        prices: PriceDraft {
            base: price("base_price", &row.base_price)?
                .ok_or(quanyu_domain::DomainError::Required { field: "base_price" })?,
            store: price("store_price", &row.store_price)?,
            online: price("online_price", &row.online_price)?,
            member: price("member_price", &row.member_price)?,
            cost: price("cost_price", &row.cost_price)?,
        },
        online_only: parse_flag("online_only", &row.online_only)?,
    };
    let mut sku = validate_sku_draft(ProductId::default(), draft)?;
    if let Some(status) = optional(&row.status) {
        sku.status = ListingStatus::parse(status)?;
    }
    Ok(sku)
}

/// `key=value; key=value` into attributes.
fn parse_attributes(raw: &str) -> AppResult<Attributes> {
    let mut attributes = BTreeMap::new();
    for pair in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| malformed("attributes", Expected::Attributes))?;
        attributes.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(attributes)
}

/// A category path (`生鲜/水果`): names validated, no deeper than the tree may grow.
fn category_path(raw: &str) -> AppResult<Vec<String>> {
    let path = raw
        .split('/')
        .map(|name| Category::validate_name(name).map_err(|e| rename(e, "category")))
        .collect::<AppResult<Vec<_>>>()?;
    if path.len() > Category::MAX_DEPTH {
        return Err(quanyu_domain::DomainError::OutOfRange {
            field: "category",
            min: 1,
            max: Category::MAX_DEPTH as i64,
        }
        .into());
    }
    Ok(path)
}

/// The domain names a product's, brand's or category's column `name`; in a SKU row `name` is
/// the SKU's, so such errors are moved to the column they came from.
fn rename(err: quanyu_domain::DomainError, column: &'static str) -> AppError {
    use quanyu_domain::DomainError as E;
    AppError::Invalid(match err {
        E::Required { .. } => E::Required { field: column },
        E::TooLong { max, .. } => E::TooLong { field: column, max },
        E::Malformed { expected, .. } => E::Malformed { field: column, expected },
        other => other,
    })
}

/// The id of the category at `path`, planning the creation of the missing part of the path.
fn ensure_category(
    known: &mut Known,
    created: &mut Vec<Category>,
    path: &[String],
    at: quanyu_domain::time::Timestamp,
) -> CategoryId {
    let mut parent_id = None;
    for depth in 1..=path.len() {
        let prefix = path[..depth].to_vec();
        let id = match known.category_paths.get(&prefix) {
            Some(&id) => id,
            None => {
                let id = CategoryId::new();
                // File order is the display order of what a file creates.
                let sort_order = i32::try_from(created.len()).unwrap_or(i32::MAX);
                let name = path[depth - 1].clone();
                created.push(Category { id, parent_id, name, sort_order, created_at: at, updated_at: at });
                known.category_paths.insert(prefix, id);
                id
            }
        };
        parent_id = Some(id);
    }
    parent_id.unwrap_or_default()
}

/// Every category's path of names from its root.
fn paths_of(categories: &[Category]) -> HashMap<Vec<String>, CategoryId> {
    let by_id: HashMap<CategoryId, &Category> = categories.iter().map(|c| (c.id, c)).collect();
    categories
        .iter()
        .map(|category| {
            let mut path = vec![category.name.clone()];
            let mut parent = category.parent_id;
            // The depth bound also stops a (corrupt) cycle.
            while let Some(p) = parent.and_then(|id| by_id.get(&id))
                && path.len() <= Category::MAX_DEPTH
            {
                path.push(p.name.clone());
                parent = p.parent_id;
            }
            path.reverse();
            (path, category.id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_paths_are_validated() {
        assert_eq!(category_path(" 生鲜 / 水果 ").unwrap(), ["生鲜", "水果"]);
        assert!(category_path("生鲜//水果").is_err());
        assert!(category_path("a/b/c/d/e/f").is_err());
    }

    #[test]
    fn attributes_parse() {
        let parsed = parse_attributes("规格=500g; 产地 = 烟台").unwrap();
        assert_eq!(parsed.get("产地").map(String::as_str), Some("烟台"));
        assert!(parse_attributes("500g").is_err());
        assert!(parse_attributes("").unwrap().is_empty());
    }

    #[test]
    fn sku_rows_check_prices() {
        let row = SkuRow {
            code: "A-1".into(),
            name: "500g".into(),
            unit: "盒".into(),
            base_price: "12.30".into(),
            member_price: "11.9".into(),
            ..SkuRow::default()
        };
        let sku = sku_of(&row).unwrap();
        assert_eq!((sku.prices.base.fen(), sku.prices.member.map(Money::fen)), (1230, Some(1190)));
        let bad = SkuRow { base_price: "12.345".into(), ..row };
        assert!(sku_of(&bad).is_err());
    }
}
