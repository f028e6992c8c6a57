//! The demo catalog: the category leaves with the goods each sells, and the generation of
//! ~2,000 SKUs from them (names, variants, EAN-13 barcodes, shelf, member and cost prices).

use quanyu_app::SkuRow;
use quanyu_domain::catalog::Barcode;

use super::DEMO_SKUS;
use crate::rng::Rng;

/// A leaf of the category tree and how its products look.
pub(super) struct Leaf {
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

/// Products round-robin over the leaves until the catalog holds [`DEMO_SKUS`] SKUs.
pub(super) fn skus(rng: &mut Rng) -> Vec<SkuRow> {
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

pub(super) fn round_10(fen: i64) -> i64 {
    (fen + 5) / 10 * 10
}

/// Completes a 12-digit body into an EAN-13.
pub fn ean13(body: &str) -> String {
    let check = Barcode::gtin_check_digit(body).unwrap_or(0);
    format!("{body}{check}")
}
