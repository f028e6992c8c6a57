//! The fictional demo chain, generated deterministically from a seed: regions, stores around
//! real city centres, staff in every role, a category tree, brands and ~2,000 SKUs, all as the
//! same text rows a CSV import reads (so the demo goes through the import's validation).
//! Pure: no I/O, no clock; the same seed gives byte-identical rows.

mod catalog;

use quanyu_app::{RegionRow, SkuRow, StaffRow, StoreRow};

use crate::rng::Rng;
pub use catalog::ean13;
use catalog::{round_10, skus};

/// The password of every demo login.
pub const DEMO_PASSWORD: &str = "quanyu-demo";
pub const CHAIN_NAME: &str = "鲜丰生活 FreshWay";
/// How many SKUs the demo catalog holds.
pub const DEMO_SKUS: usize = 2_000;

/// A store's own price for an SKU (a local promotion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceOverride {
    pub store: String,
    pub sku: String,
    pub price_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoChain {
    pub name: String,
    pub regions: Vec<RegionRow>,
    pub stores: Vec<StoreRow>,
    /// One regional distribution centre (中心仓) per city: the source of requisitions.
    pub warehouses: Vec<StoreRow>,
    pub staff: Vec<StaffRow>,
    pub skus: Vec<SkuRow>,
    pub overrides: Vec<PriceOverride>,
}

/// A city the chain trades in; one region each.
struct City {
    region_code: &'static str,
    region_name: &'static str,
    name: &'static str,
    /// Centre in GCJ-02.
    lat: f64,
    lng: f64,
    phone_area: &'static str,
    stores: usize,
    districts: &'static [&'static str],
    roads: &'static [&'static str],
    /// Neighbourhoods that name the stores; at least `stores` of them.
    neighbourhoods: &'static [&'static str],
}

const CITIES: [City; 3] = [
    City {
        region_code: "SH",
        region_name: "上海大区",
        name: "上海市",
        lat: 31.2304,
        lng: 121.4737,
        phone_area: "021",
        stores: 26,
        districts: &["黄浦区", "徐汇区", "静安区", "长宁区", "普陀区", "虹口区", "杨浦区", "浦东新区", "闵行区"],
        roads: &[
            "南京西路",
            "淮海中路",
            "漕溪北路",
            "延安西路",
            "长寿路",
            "四平路",
            "张杨路",
            "世纪大道",
            "虹井路",
            "中山北路",
            "天目西路",
            "金桥路",
        ],
        neighbourhoods: &[
            "静安寺",
            "南京西路",
            "徐家汇",
            "打浦桥",
            "人民广场",
            "中山公园",
            "五角场",
            "陆家嘴",
            "世纪公园",
            "张江",
            "金桥",
            "联洋",
            "莘庄",
            "七宝",
            "古北",
            "虹桥",
            "曹家渡",
            "长寿路",
            "大宁",
            "彭浦",
            "江湾",
            "新江湾城",
            "田林",
            "漕河泾",
            "龙华",
            "前滩",
            "三林",
            "花木",
            "塘桥",
        ],
    },
    City {
        region_code: "HZ",
        region_name: "杭州大区",
        name: "杭州市",
        lat: 30.2741,
        lng: 120.1551,
        phone_area: "0571",
        stores: 20,
        districts: &["西湖区", "上城区", "拱墅区", "滨江区", "余杭区"],
        roads: &["文三路", "文一西路", "延安路", "庆春路", "江南大道", "莫干山路", "天目山路", "解放路", "凤起路"],
        neighbourhoods: &[
            "武林",
            "湖滨",
            "黄龙",
            "文三",
            "古荡",
            "西溪",
            "城西",
            "滨江星光",
            "钱江新城",
            "四季青",
            "和睦",
            "大关",
            "申花",
            "三墩",
            "良渚",
            "未来科技城",
            "闲林",
            "萧山市心",
            "九堡",
            "下沙",
        ],
    },
    City {
        region_code: "SZ",
        region_name: "苏州大区",
        name: "苏州市",
        lat: 31.2990,
        lng: 120.5853,
        phone_area: "0512",
        stores: 14,
        districts: &["姑苏区", "工业园区", "虎丘区", "吴中区", "相城区"],
        roads: &["干将路", "人民路", "星湖街", "现代大道", "苏州大道东", "长江路", "金鸡湖大道"],
        neighbourhoods: &[
            "观前街",
            "石路",
            "金鸡湖",
            "湖东",
            "湖西",
            "独墅湖",
            "狮山",
            "新区",
            "木渎",
            "吴中万达",
            "相城",
            "平江路",
            "李公堤",
            "斜塘",
        ],
    },
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "高", "沈", "陆", "顾", "钱", "蒋",
];
const GIVEN_NAMES: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "婷", "雪", "晨", "浩", "宇", "欣怡", "子涵", "思远", "嘉怡", "俊杰", "梓萱", "一鸣", "佳琪",
];
const OPENING_HOURS: &[&str] = &["07:00-22:00", "07:30-22:30", "08:00-22:00", "07:00-23:00", "08:30-21:30"];

/// Generates the whole chain. Staff rows carry `password_hash`, one PHC string for everyone
/// (hashing hundreds of passwords would take minutes; a demo shares one password anyway).
pub fn generate(seed: u64, password_hash: &str) -> DemoChain {
    let mut rng = Rng::new(seed);
    let regions = CITIES
        .iter()
        .map(|c| RegionRow { line: 0, code: c.region_code.to_owned(), name: c.region_name.to_owned() })
        .collect();
    let stores = stores(&mut rng);
    let staff = staff(&mut rng, &stores, password_hash);
    let skus = skus(&mut rng);
    let overrides = overrides(&mut rng, &stores, &skus);
    DemoChain { name: CHAIN_NAME.to_owned(), regions, stores, warehouses: warehouses(), staff, skus, overrides }
}

/// A warehouse per city, on its outskirts.
fn warehouses() -> Vec<StoreRow> {
    CITIES
        .iter()
        .map(|city| StoreRow {
            line: 0,
            code: format!("{}W01", city.region_code),
            name: format!("鲜丰生活·{}中心仓", city.name),
            region: city.region_code.to_owned(),
            address: format!("{}{}物流园", city.name, city.districts[0]),
            lat: format!("{:.6}", city.lat + 0.09),
            lng: format!("{:.6}", city.lng - 0.11),
            opening_hours: "00:00-24:00".to_owned(),
            time_zone: "Asia/Shanghai".to_owned(),
            area_m2: "12000".to_owned(),
            delivery_radius_m: "0".to_owned(),
            phone: String::new(),
            status: "open".to_owned(),
            kind: "warehouse".to_owned(),
        })
        .collect()
}

fn stores(rng: &mut Rng) -> Vec<StoreRow> {
    let mut stores = Vec::new();
    for city in &CITIES {
        let mut names: Vec<&str> = city.neighbourhoods.to_vec();
        rng.shuffle(&mut names);
        for (i, neighbourhood) in names.iter().take(city.stores).enumerate() {
            let (lat, lng) = scatter(rng, city.lat, city.lng, 12_000.0);
            let area = if rng.chance(0.75) { rng.range(80, 400) } else { rng.range(400, 2_000) };
            stores.push(StoreRow {
                line: 0,
                code: format!("{}{:03}", city.region_code, i + 1),
                name: format!("鲜丰生活·{neighbourhood}店"),
                region: city.region_code.to_owned(),
                address: format!(
                    "{}{}{}{}号",
                    city.name,
                    rng.pick(city.districts),
                    rng.pick(city.roads),
                    rng.range(1, 1_200)
                ),
                lat: lat.to_string(),
                lng: lng.to_string(),
                opening_hours: if rng.chance(0.1) { "00:00-24:00" } else { rng.pick(OPENING_HOURS) }.to_owned(),
                time_zone: "Asia/Shanghai".to_owned(),
                area_m2: area.to_string(),
                delivery_radius_m: "3000".to_owned(),
                phone: format!("{}-{}", city.phone_area, rng.range(50_000_000, 69_999_999)),
                // One store is being refitted, as there always is one.
                status: if stores.len() == 7 { "paused" } else { "open" }.to_owned(),
                kind: "store".to_owned(),
            });
        }
    }
    stores
}

/// A point at most `radius_m` from the centre, uniform over the disc, rounded to 6 decimals
/// (~0.1 m) so that it survives a CSV round trip unchanged.
fn scatter(rng: &mut Rng, lat: f64, lng: f64, radius_m: f64) -> (f64, f64) {
    const METRES_PER_DEGREE: f64 = 111_320.0;
    let distance = radius_m * rng.unit().sqrt();
    let bearing = rng.unit() * std::f64::consts::TAU;
    let d_lat = distance * bearing.cos() / METRES_PER_DEGREE;
    let d_lng = distance * bearing.sin() / (METRES_PER_DEGREE * lat.to_radians().cos());
    let round = |v: f64| (v * 1e6).round() / 1e6;
    (round(lat + d_lat), round(lng + d_lng))
}

fn staff(rng: &mut Rng, stores: &[StoreRow], password_hash: &str) -> Vec<StaffRow> {
    let mut staff = Vec::new();
    let mut push = |rng: &mut Rng, username: String, role: &str, region: &str, store: &str, phone: bool| {
        let display_name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN_NAMES));
        // Multiplying the index by a number prime to 10⁸ keeps every phone unique.
        let phone = if phone {
            let suffix = (staff.len() as u64 * 7_919_993 + 12_345_678) % 100_000_000;
            format!("{}{suffix:08}", rng.pick(&["135", "136", "138", "139", "150", "186", "187"]))
        } else {
            String::new()
        };
        staff.push(StaffRow {
            line: 0,
            username,
            display_name,
            phone,
            role: role.to_owned(),
            region: region.to_owned(),
            store: store.to_owned(),
            status: "active".to_owned(),
            password: String::new(),
            password_hash: password_hash.to_owned(),
        });
    };
    push(rng, "admin".to_owned(), "hq_admin", "", "", false);
    push(rng, "ops".to_owned(), "hq_ops", "", "", true);
    for city in &CITIES {
        push(rng, format!("rm-{}", city.region_code.to_lowercase()), "region_manager", city.region_code, "", true);
    }
    for store in stores {
        let code = store.code.to_lowercase();
        let large = store.area_m2.parse::<i64>().unwrap_or(0) >= 600;
        push(rng, format!("sm-{code}"), "store_manager", "", &store.code, true);
        for (role, prefix) in [("cashier", "cashier"), ("guide", "guide")] {
            push(rng, format!("{prefix}-{code}"), role, "", &store.code, true);
            if large {
                push(rng, format!("{prefix}-{code}-2"), role, "", &store.code, true);
            }
        }
        push(rng, format!("picker-{code}"), "picker", "", &store.code, true);
        push(rng, format!("courier-{code}"), "courier", "", &store.code, true);
    }
    staff
}

/// A dozen local promotions: a store sells an SKU 5–15% below the chain price.
fn overrides(rng: &mut Rng, stores: &[StoreRow], skus: &[SkuRow]) -> Vec<PriceOverride> {
    let sellable: Vec<&SkuRow> = skus.iter().filter(|s| s.online_only == "false").collect();
    let mut overrides: Vec<PriceOverride> = Vec::new();
    while overrides.len() < 12 && !sellable.is_empty() {
        let store = rng.pick(stores);
        let sku = rng.pick(&sellable);
        if overrides.iter().any(|o| o.store == store.code && o.sku == sku.code) {
            continue;
        }
        let base = parse_fen(&sku.base_price);
        overrides.push(PriceOverride {
            store: store.code.clone(),
            sku: sku.code.clone(),
            price_fen: round_10(base * rng.range(85, 95) / 100),
        });
    }
    overrides
}

/// `12.30` → 1230; demo prices are always well formed.
fn parse_fen(yuan: &str) -> i64 {
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, "0"));
    whole.parse::<i64>().unwrap_or(0) * 100 + frac.parse::<i64>().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use quanyu_domain::{Money, catalog::Barcode, geo::Coordinates};

    use super::*;

    #[test]
    fn same_seed_same_chain_other_seed_other_chain() {
        assert_eq!(generate(42, "h"), generate(42, "h"));
        let (a, b) = (generate(42, "h"), generate(43, "h"));
        assert_ne!(a.stores, b.stores);
        assert_ne!(a.skus, b.skus);
    }

    #[test]
    fn the_chain_has_the_promised_shape() {
        let chain = generate(1, "h");
        assert_eq!(chain.regions.len(), 3);
        assert_eq!(chain.stores.len(), 60);
        assert_eq!(chain.skus.len(), DEMO_SKUS);
        let roles: HashSet<&str> = chain.staff.iter().map(|s| s.role.as_str()).collect();
        assert_eq!(roles.len(), 8, "every role: {roles:?}");
        for store in &chain.stores {
            for prefix in ["sm", "cashier", "guide", "picker", "courier"] {
                let username = format!("{prefix}-{}", store.code.to_lowercase());
                assert!(chain.staff.iter().any(|s| s.username == username), "{username}");
            }
        }
        let products: HashSet<&str> = chain.skus.iter().map(|s| s.product.as_str()).collect();
        assert!((700..=2_000).contains(&products.len()), "{}", products.len());
        assert!(chain.skus.iter().any(|s| s.sold_by_weight == "true"));
        assert!(chain.skus.iter().any(|s| s.online_only == "true"));
        assert!(chain.skus.iter().any(|s| !s.member_price.is_empty()));
        assert_eq!(chain.overrides.len(), 12);
    }

    #[test]
    fn codes_are_unique_and_valid() {
        let chain = generate(9, "h");
        let unique = |values: Vec<&str>| values.len() == values.iter().collect::<HashSet<_>>().len();
        assert!(unique(chain.stores.iter().map(|s| s.code.as_str()).collect()));
        assert!(unique(chain.stores.iter().map(|s| s.name.as_str()).collect()));
        assert!(unique(chain.staff.iter().map(|s| s.username.as_str()).collect()));
        assert!(unique(chain.staff.iter().map(|s| s.phone.as_str()).filter(|p| !p.is_empty()).collect()));
        assert!(unique(chain.skus.iter().map(|s| s.code.as_str()).collect()));
        assert!(unique(chain.skus.iter().map(|s| s.barcode.as_str()).collect()));
        for sku in &chain.skus {
            assert!(Barcode::parse(&sku.barcode).is_ok(), "{}", sku.barcode);
            assert_eq!(sku.barcode.len(), 13);
            let base = Money::parse_yuan("base_price", &sku.base_price).unwrap();
            assert!(base.fen() >= 100, "{sku:?}");
        }
    }

    #[test]
    fn stores_stay_near_their_city() {
        let chain = generate(5, "h");
        for store in &chain.stores {
            let city = CITIES.iter().find(|c| c.region_code == store.region).unwrap();
            let at = Coordinates::new(store.lat.parse().unwrap(), store.lng.parse().unwrap()).unwrap();
            let centre = Coordinates::new(city.lat, city.lng).unwrap();
            assert!(at.distance_m(&centre) <= 12_100.0, "{} is {} m out", store.code, at.distance_m(&centre));
            let area: u32 = store.area_m2.parse().unwrap();
            assert!((80..=2_000).contains(&area));
        }
    }

    #[test]
    fn ean13_check_digits() {
        assert_eq!(ean13("690123456789"), "6901234567892");
    }
}
