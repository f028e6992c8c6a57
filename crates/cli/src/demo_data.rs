//! The fictional demo chain, generated deterministically from a seed: regions, stores around
//! real city centres, staff in every role, a category tree, brands and ~2,000 SKUs, all as the
//! same text rows a CSV import reads (so the demo goes through the import's validation).
//! Pure: no I/O, no clock; the same seed gives byte-identical rows.

use quanyu_app::{RegionRow, SkuRow, StaffRow, StoreRow};
use quanyu_domain::catalog::Barcode;

use crate::rng::Rng;

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

/// A leaf of the category tree and how its products look.
struct Leaf {
    path: &'static str,
    /// Prefix of the SKU codes.
    code: &'static str,
    kind: &'static str,
    /// The first variant is sold by weight (prices per kg).
    weighed: bool,
    online_only: bool,
    brands: &'static [&'static str],
    /// Origins, flavours or styles put before the item.
    modifiers: &'static [&'static str],
    items: &'static [&'static str],
    /// Variant name, unit, price factor against the first variant.
    variants: &'static [(&'static str, &'static str, f64)],
    /// Price range of the first variant, in 分.
    price: (i64, i64),
}

const LEAVES: &[Leaf] = &[
    Leaf {
        path: "生鲜/水果",
        code: "FRU",
        kind: "fresh",
        weighed: true,
        online_only: false,
        brands: &["", "", "鲜丰优选", "果鲜生"],
        modifiers: &["烟台", "阿克苏", "赣南", "云南", "海南", "新疆", "陕西", "四川", "广西", "山东", "智利", "泰国"],
        items: &[
            "苹果",
            "香梨",
            "脐橙",
            "香蕉",
            "葡萄",
            "猕猴桃",
            "芒果",
            "火龙果",
            "草莓",
            "蓝莓",
            "樱桃",
            "西瓜",
            "哈密瓜",
            "柚子",
            "水蜜桃",
            "荔枝",
            "龙眼",
            "菠萝",
            "柠檬",
            "石榴",
        ],
        variants: &[("散装称重", "kg", 1.0), ("精品盒装 500g", "盒", 0.65), ("家庭装 2kg", "箱", 2.2)],
        price: (600, 4_000),
    },
    Leaf {
        path: "生鲜/蔬菜",
        code: "VEG",
        kind: "fresh",
        weighed: true,
        online_only: false,
        brands: &["", "", "田园记", "山野集"],
        modifiers: &["本地", "有机", "崇明", "寿光", "云南", "内蒙古", "高山", "绿色", "精品", "时令"],
        items: &[
            "西红柿",
            "黄瓜",
            "土豆",
            "胡萝卜",
            "大白菜",
            "菠菜",
            "生菜",
            "西兰花",
            "茄子",
            "青椒",
            "洋葱",
            "芹菜",
            "油麦菜",
            "小青菜",
            "冬瓜",
            "南瓜",
            "山药",
            "莲藕",
            "香菇",
            "金针菇",
        ],
        variants: &[("散装称重", "kg", 1.0), ("净菜盒装 300g", "盒", 0.45)],
        price: (300, 1_600),
    },
    Leaf {
        path: "生鲜/肉禽蛋",
        code: "MEA",
        kind: "fresh",
        weighed: true,
        online_only: false,
        brands: &["", "牧原肉品", "丰收季"],
        modifiers: &["冷鲜", "黑猪", "内蒙古", "澳洲", "散养", "谷饲", "草饲", "农家", "精选"],
        items: &[
            "五花肉",
            "猪里脊",
            "猪肋排",
            "前腿肉",
            "牛腱子",
            "牛里脊",
            "牛腩",
            "羊肉卷",
            "鸡胸肉",
            "鸡翅中",
            "鸡腿",
            "整鸡",
            "鸭腿",
            "土鸡蛋",
        ],
        variants: &[("散装称重", "kg", 1.0), ("托盘装 400g", "盒", 0.42), ("家庭装 1kg", "盒", 0.98)],
        price: (1_600, 12_000),
    },
    Leaf {
        path: "生鲜/水产海鲜",
        code: "SEA",
        kind: "fresh",
        weighed: true,
        online_only: false,
        brands: &["", "", "海之味"],
        modifiers: &["舟山", "东海", "鲜活", "冰鲜", "阳澄湖", "挪威", "本地", "野生", "湖泊"],
        items: &[
            "基围虾",
            "大闸蟹",
            "鲈鱼",
            "带鱼",
            "黄鱼",
            "三文鱼",
            "鱿鱼",
            "扇贝",
            "花蛤",
            "生蚝",
            "草鱼",
            "鲫鱼",
            "小龙虾",
            "梭子蟹",
        ],
        variants: &[("鲜活称重", "kg", 1.0), ("冰鲜盒装 500g", "盒", 0.55)],
        price: (2_000, 16_000),
    },
    Leaf {
        path: "生鲜/乳品烘焙",
        code: "DAI",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["牧野鲜", "北纬乳业", "晨光牧场", "麦香坊"],
        modifiers: &["", "原味", "低脂", "无蔗糖", "高钙", "全脂"],
        items: &[
            "鲜牛奶",
            "酸奶",
            "希腊酸奶",
            "奶酪棒",
            "黄油吐司",
            "全麦面包",
            "牛角包",
            "豆浆",
            "乳酸菌饮品",
            "芝士蛋糕",
        ],
        variants: &[("250ml", "盒", 1.0), ("950ml", "瓶", 3.2), ("6 盒装", "组", 5.4)],
        price: (350, 1_500),
    },
    Leaf {
        path: "食品杂货/粮油调味",
        code: "GRA",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["禾丰", "金穗", "粮悦", "老味坊"],
        modifiers: &["", "精选", "特级", "有机", "古法"],
        items: &[
            "东北大米",
            "五常大米",
            "泰国香米",
            "高筋面粉",
            "挂面",
            "花生油",
            "菜籽油",
            "玉米油",
            "生抽",
            "老抽",
            "香醋",
            "料酒",
            "蚝油",
            "白砂糖",
            "豆瓣酱",
            "芝麻油",
        ],
        variants: &[("500g", "袋", 1.0), ("2.5kg", "袋", 4.1), ("5kg", "袋", 7.6)],
        price: (450, 2_500),
    },
    Leaf {
        path: "食品杂货/休闲零食",
        code: "SNK",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["咔滋", "果仁记", "小馋猫", "蜀香居"],
        modifiers: &["", "原味", "香辣", "海盐", "芝士", "蜂蜜"],
        items: &[
            "薯片",
            "每日坚果",
            "牛肉干",
            "海苔",
            "苏打饼干",
            "黑巧克力",
            "果冻",
            "山楂片",
            "瓜子",
            "猪肉脯",
            "鱿鱼丝",
            "蛋黄酥",
            "凤梨酥",
            "辣条",
        ],
        variants: &[("70g", "袋", 1.0), ("150g", "袋", 1.9), ("家庭装 500g", "袋", 5.5)],
        price: (350, 2_800),
    },
    Leaf {
        path: "食品杂货/酒水饮料",
        code: "BEV",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["清泉山", "青柠工坊", "醇麦", "椰风岛"],
        modifiers: &["", "无糖", "低糖", "经典", "冰爽"],
        items: &[
            "矿泉水",
            "纯净水",
            "苏打水",
            "绿茶",
            "乌龙茶",
            "橙汁",
            "椰子水",
            "可乐",
            "气泡水",
            "咖啡饮料",
            "精酿啤酒",
            "黄酒",
            "干红葡萄酒",
            "功能饮料",
        ],
        variants: &[("500ml", "瓶", 1.0), ("1.5L", "瓶", 2.2), ("500ml×12", "箱", 10.5)],
        price: (200, 1_200),
    },
    Leaf {
        path: "食品杂货/方便速食",
        code: "INS",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["锅小满", "速享", "粉丝坊", "早餐铺"],
        modifiers: &["", "红烧", "番茄", "酸辣", "麻辣", "鲜虾"],
        items: &[
            "方便面",
            "自热火锅",
            "速冻水饺",
            "汤圆",
            "螺蛳粉",
            "酸辣粉",
            "速冻馄饨",
            "午餐肉",
            "八宝粥",
            "燕麦片",
        ],
        variants: &[("单包", "袋", 1.0), ("5 连包", "组", 4.6)],
        price: (350, 2_600),
    },
    Leaf {
        path: "日用百货/个人护理",
        code: "PER",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["悦肤", "洁齿堂", "草本集", "清颜"],
        modifiers: &["", "清爽", "滋润", "去屑", "薄荷", "温和"],
        items: &["洗发水", "护发素", "沐浴露", "牙膏", "牙刷", "洗面奶", "护手霜", "漱口水", "身体乳", "卫生巾"],
        variants: &[("标准装", "瓶", 1.0), ("大容量装", "瓶", 1.7)],
        price: (990, 6_900),
    },
    Leaf {
        path: "日用百货/家庭清洁",
        code: "CLN",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["净立方", "亮洁", "白鸽家", "衣香"],
        modifiers: &["", "薰衣草", "柠檬", "除菌", "浓缩"],
        items: &[
            "洗衣液",
            "洗衣粉",
            "洗洁精",
            "消毒液",
            "地板清洁剂",
            "洁厕灵",
            "柔顺剂",
            "玻璃清洁剂",
            "垃圾袋",
            "洗衣凝珠",
        ],
        variants: &[("1kg", "瓶", 1.0), ("3kg", "桶", 2.6)],
        price: (590, 3_900),
    },
    Leaf {
        path: "日用百货/纸品湿巾",
        code: "PAP",
        kind: "standard",
        weighed: false,
        online_only: false,
        brands: &["棉柔", "竹语", "柔滋", "云朵家"],
        modifiers: &["", "原生木浆", "竹浆", "加厚", "无香"],
        items: &["抽纸", "卷纸", "湿巾", "厨房用纸", "手帕纸", "婴儿湿巾"],
        variants: &[("单包", "包", 1.0), ("6 包装", "提", 5.2), ("整箱", "箱", 14.0)],
        price: (290, 1_500),
    },
    Leaf {
        path: "会员服务/权益卡",
        code: "SRV",
        kind: "service",
        weighed: false,
        online_only: true,
        brands: &["鲜丰会员"],
        modifiers: &[""],
        items: &["会员月卡", "会员年卡", "到家免运费月卡", "生日蛋糕预订券", "果切定制服务", "上门家电清洗"],
        variants: &[("电子券", "张", 1.0)],
        price: (990, 19_900),
    },
];

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
    DemoChain { name: CHAIN_NAME.to_owned(), regions, stores, staff, skus, overrides }
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

/// Products round-robin over the leaves until the catalog holds [`DEMO_SKUS`] SKUs.
fn skus(rng: &mut Rng) -> Vec<SkuRow> {
    // Each leaf's products in a shuffled order of (brand, modifier, item): names never repeat.
    let mut queues: Vec<Vec<(usize, usize, usize)>> = LEAVES
        .iter()
        .map(|leaf| {
            let mut combos = Vec::new();
            for b in 0..leaf.brands.len() {
                for m in 0..leaf.modifiers.len() {
                    for i in 0..leaf.items.len() {
                        combos.push((b, m, i));
                    }
                }
            }
            rng.shuffle(&mut combos);
            combos
        })
        .collect();
    let mut names = std::collections::HashSet::new();
    let mut skus = Vec::with_capacity(DEMO_SKUS);
    let mut counters = vec![0usize; LEAVES.len()];
    let (mut plu, mut gtin) = (10_001u64, 0u64);
    let gtin_offset = rng.next_u64() % 10_000_000_000;
    'fill: while skus.len() < DEMO_SKUS {
        let before = skus.len();
        for (leaf_index, leaf) in LEAVES.iter().enumerate() {
            let Some((b, m, i)) = queues[leaf_index].pop() else { continue };
            let brand = leaf.brands[b];
            let product = format!("{brand}{}{}", leaf.modifiers[m], leaf.items[i]).trim().to_owned();
            // Two brands can spell the same name when one is empty; keep names unique.
            if !names.insert(product.clone()) {
                continue;
            }
            counters[leaf_index] += 1;
            let base = rng.range(leaf.price.0, leaf.price.1);
            let variants = rng.range(1, leaf.variants.len().min(3) as i64) as usize;
            for (v, (variant, unit, factor)) in leaf.variants.iter().take(variants).enumerate() {
                if skus.len() == DEMO_SKUS {
                    break 'fill;
                }
                let weighed = leaf.weighed && v == 0;
                let barcode = if weighed {
                    // Restricted-circulation EAN-13 (prefix 20): the scale prints weight/price.
                    plu += 1;
                    ean13(&format!("20{plu:05}00000"))
                } else {
                    // Multiplying by a number prime to 10¹⁰ keeps every code unique.
                    gtin += 1;
                    ean13(&format!("69{:010}", (gtin * 7_919_993 + gtin_offset) % 10_000_000_000))
                };
                skus.push(sku_row(
                    rng,
                    leaf,
                    &product,
                    brand,
                    counters[leaf_index],
                    v,
                    barcode,
                    weighed,
                    base,
                    variant,
                    unit,
                    *factor,
                ));
            }
        }
        if skus.len() == before {
            break; // Every leaf is exhausted.
        }
    }
    skus
}

#[allow(clippy::too_many_arguments)]
fn sku_row(
    rng: &mut Rng,
    leaf: &Leaf,
    product: &str,
    brand: &str,
    product_no: usize,
    variant_no: usize,
    barcode: String,
    weighed: bool,
    base: i64,
    variant: &str,
    unit: &str,
    factor: f64,
) -> SkuRow {
    let price = retail_price(rng, (base as f64 * factor) as i64);
    let member = rng.chance(0.25).then(|| round_10(price * 9 / 10)).filter(|m| *m < price && *m > 0);
    let online = rng.chance(0.1).then(|| price - rng.range(1, 5) * 10).filter(|p| *p > 0);
    let cost = round_10(price * rng.range(55, 80) / 100);
    let yuan = |fen: Option<i64>| fen.map(|f| format!("{}.{:02}", f / 100, f % 100)).unwrap_or_default();
    SkuRow {
        line: 0,
        product: product.to_owned(),
        category: leaf.path.to_owned(),
        brand: brand.to_owned(),
        kind: leaf.kind.to_owned(),
        code: format!("{}{product_no:04}-{}", leaf.code, variant_no + 1),
        barcode,
        name: variant.to_owned(),
        unit: unit.to_owned(),
        sold_by_weight: weighed.to_string(),
        attributes: format!("规格={variant}"),
        images: String::new(),
        base_price: yuan(Some(price)),
        store_price: String::new(),
        online_price: yuan(online),
        member_price: yuan(member),
        cost_price: yuan(Some(cost)),
        online_only: (leaf.online_only || rng.chance(0.02)).to_string(),
        status: "active".to_owned(),
    }
}

/// A shelf price: whole 角, and above ¥10 usually ending in .90 (¥12.90).
fn retail_price(rng: &mut Rng, fen: i64) -> i64 {
    let fen = round_10(fen.max(100));
    if fen >= 1_000 && rng.chance(0.6) { fen / 100 * 100 + 90 } else { fen }
}

fn round_10(fen: i64) -> i64 {
    (fen + 5) / 10 * 10
}

/// Completes a 12-digit body into an EAN-13.
pub fn ean13(body: &str) -> String {
    let check = Barcode::gtin_check_digit(body).unwrap_or(0);
    format!("{body}{check}")
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

    use quanyu_domain::{Money, geo::Coordinates};

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
