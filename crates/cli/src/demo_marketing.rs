//! Marketing for the demo chain, through the use cases HQ and guides use. Before the members
//! ([`seed`]): five coupon templates — 新人礼 无门槛减5 (every new member), 满59减10 (to claim,
//! once each), 复购券 满99减15 (after the first paid order), 会员9折券 (guides give it) and
//! 免运费券 (to claim, online) — and three promotions running for a year: 周末满减 across the
//! chain, 乳品第二件半价 on the dairy category and a 限时特价 on four popular SKUs. The rules
//! thus reach the members as they are written. After the members ([`hand_out`]): a quarter
//! claim a 满59减10 and guides give some of their members a 会员9折券. Then ([`growth`]) the
//! referral rewards, commission rates, tags and a saved audience.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{Duration, Utc};
use quanyu_app::{App, CouponTemplateDraft, Ctx, FlashSaleDraft, Idempotency, PromotionDraft};
use quanyu_domain::{
    Money,
    authz::Actor,
    catalog::Sku,
    ids::{CouponTemplateId, StaffId, StoreId},
    org::Store,
    pricing::{AmountOffTier, CouponKind, PromotionKind, Scope, SkuPrice},
};
use quanyu_store::StaffFilter;

use crate::{
    demo_members::DemoMember,
    rng::Rng,
    seeding::{fresh, keyed, no_reply},
};

/// How many popular SKUs the 限时特价 covers, and at what share of their price.
const LIMITED_TIME_SKUS: usize = 4;
const LIMITED_TIME_PERCENT: i64 = 80;
/// Shares of the members who claim a 满59减10, and whose guide gives them a 会员9折券.
const CLAIM_SHARE: f64 = 0.25;
const GUIDE_GIFT_SHARE: f64 = 0.08;

/// What [`seed`] set up.
#[derive(Debug, Clone)]
pub struct DemoMarketing {
    /// 满59减10.
    claimable: CouponTemplateId,
    /// 会员9折券.
    from_guides: CouponTemplateId,
    pub templates: usize,
    pub promotions: usize,
}

/// Coupons [`hand_out`] put in wallets.
#[derive(Debug, Clone, Copy)]
pub struct HandedOut {
    pub claimed: usize,
    pub from_guides: usize,
}

/// The coupon templates and promotions; `shelf` is the SKUs in stores, most popular first.
pub async fn seed(app: &App, shelf: &[Sku]) -> anyhow::Result<DemoMarketing> {
    let ctx = Ctx::system();
    let yuan_off = |yuan: i64| CouponKind::AmountOff { amount: Money::from_fen(yuan * 100) };
    let template = |name: &str, kind, threshold_yuan: i64| CouponTemplateDraft {
        per_customer_limit: Some(1),
        ..CouponTemplateDraft::new(name, kind, threshold_yuan * 100)
    };
    let templates = [
        CouponTemplateDraft {
            auto_issue: Some("new_member".into()), ..template("新人礼 无门槛减5", yuan_off(5), 0)
        },
        CouponTemplateDraft { claimable: true, budget_count: Some(50_000), ..template("满59减10", yuan_off(10), 59) },
        CouponTemplateDraft {
            auto_issue: Some("first_order_paid".into()),
            ..template("复购券 满99减15", yuan_off(15), 99)
        },
        CouponTemplateDraft {
            per_customer_limit: Some(3),
            ..template("会员9折券", CouponKind::PercentOff { pay_bp: 9_000, cap: Some(Money::from_fen(2_000)) }, 0)
        },
        CouponTemplateDraft {
            claimable: true,
            channels: vec!["online".into()],
            ..template("免运费券", CouponKind::Delivery { amount: None }, 0)
        },
    ];
    let count = templates.len();
    let mut ids = Vec::with_capacity(count);
    for draft in templates {
        ids.push(fresh(app.create_coupon_template(&ctx, draft, &no_reply).await?)?.id);
    }

    let now = Utc::now();
    let promotion = |name: &str, kind, priority, scope| PromotionDraft {
        name: name.into(),
        kind,
        priority,
        exclusive: false,
        starts_at: now - Duration::days(1),
        ends_at: now + Duration::days(365),
        audience: "everyone".into(),
        scope,
        channels: Vec::new(),
        store_ids: Vec::new(),
    };
    let tier = |threshold: i64, amount: i64| AmountOffTier {
        threshold: Money::from_fen(threshold * 100),
        amount: Money::from_fen(amount * 100),
    };
    let mut promotions = vec![promotion(
        "周末满减",
        PromotionKind::AmountOffLadder { tiers: vec![tier(99, 15), tier(199, 40)], per_each: false },
        0,
        Scope::All,
    )];
    if let Some(dairy) = app.list_categories(&ctx).await?.into_iter().find(|c| c.name.starts_with("乳品")) {
        promotions.push(promotion(
            "乳品第二件半价",
            PromotionKind::SecondItem { pay_bp: 5_000 },
            5,
            Scope::Categories(vec![dairy.id]),
        ));
    }
    let prices: Vec<SkuPrice> = shelf
        .iter()
        .filter(|sku| !sku.sold_by_weight)
        .take(LIMITED_TIME_SKUS)
        .map(|sku| SkuPrice {
            sku_id: sku.id,
            unit_price: Money::from_fen((sku.prices.base.fen() * LIMITED_TIME_PERCENT / 100 / 10 * 10).max(10)),
        })
        .collect();
    if !prices.is_empty() {
        promotions.push(promotion("限时特价", PromotionKind::LimitedTimePrice { prices }, 10, Scope::All));
    }
    let promotion_count = promotions.len();
    for draft in promotions {
        fresh(app.create_promotion(&ctx, draft, &no_reply).await?)?;
    }
    Ok(DemoMarketing { claimable: ids[1], from_guides: ids[3], templates: count, promotions: promotion_count })
}

/// Members claim 满59减10 and guides give 会员9折券, each through the use case with its own
/// idempotency key.
pub async fn hand_out(
    app: &App,
    marketing: &DemoMarketing,
    members: &[DemoMember],
    stores: &[quanyu_domain::org::Store],
    seed: u64,
) -> anyhow::Result<HandedOut> {
    let guides = guide_actors(app, stores).await?;
    let mut rng = Rng::new(seed ^ 0xC0FF_EE75);
    let mut handed = HandedOut { claimed: 0, from_guides: 0 };
    for (n, member) in members.iter().enumerate() {
        if rng.chance(CLAIM_SHARE) {
            let ctx = keyed(&format!("demo:claim:{n}"));
            fresh(app.issue_coupon(&ctx, marketing.claimable, member.id, true, &no_reply).await?)?;
            handed.claimed += 1;
        }
        if rng.chance(GUIDE_GIFT_SHARE)
            && let Some(guide) = member.guide_id.and_then(|id| guides.get(&id))
        {
            let key = format!("demo:gift:{n}");
            let ctx = Ctx {
                idempotency: Some(Idempotency { key: key.clone(), fingerprint: key }),
                ..Ctx::new(guide.clone())
            };
            fresh(app.issue_coupon(&ctx, marketing.from_guides, member.id, false, &no_reply).await?)?;
            handed.from_guides += 1;
        }
    }
    Ok(handed)
}

/// Every guide as the actor of their own requests.
async fn guide_actors(app: &App, stores: &[quanyu_domain::org::Store]) -> anyhow::Result<HashMap<StaffId, Actor>> {
    let ctx = Ctx::system();
    let mut actors = HashMap::new();
    let mut cursor = None;
    loop {
        let filter = StaffFilter { role: Some(quanyu_domain::org::Role::Guide), ..StaffFilter::default() };
        let page = app.list_staff(&ctx, filter, cursor.as_deref(), Some(500)).await?;
        for staff in page.items {
            let store: Option<StoreId> = match staff.assignment.scope() {
                quanyu_domain::org::Scope::Store(store_id) => Some(store_id),
                _ => None,
            };
            let region = store.and_then(|id| stores.iter().find(|s| s.id == id)).map(|s| s.region_id);
            let actor = Actor {
                staff_id: staff.id,
                username: staff.username,
                assignment: staff.assignment,
                home_region: Some(region.context("a demo guide works in no store")?),
            };
            actors.insert(actor.staff_id, actor);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(actors),
        }
    }
}

/// Share of the members tagged 投诉 (they complained once).
const COMPLAINT_SHARE: f64 = 0.02;

/// The growth team's setup: referral rewards (100 points for the invitee, 200 and a 满59减10 for
/// the inviter), commission rates (10% and 3%, released after 7 days), the tags 投诉 (on a few
/// members) and the rule tag 生鲜常客 (fresh goods bought 3 times in 30 days, counted from now
/// on), and a saved audience: 上海大区 members in maturity who never complained.
pub async fn growth(app: &App, marketing: &DemoMarketing, members: &[DemoMember], seed: u64) -> anyhow::Result<()> {
    let ctx = Ctx::system();
    let program = quanyu_domain::referral::ReferralProgram {
        inviter_points: 200,
        inviter_template_id: Some(marketing.claimable),
        invitee_points: 100,
        invitee_template_id: None,
    };
    app.set_referral_program(&ctx, program).await?;
    let rules = quanyu_app::CommissionRulesDraft {
        level1_bp: 1_000,
        level2_bp: 300,
        return_window_days: Some(7),
        sku_rates: Vec::new(),
    };
    app.set_commission_rules(&ctx, rules).await?;
    app.create_tag(&ctx, "投诉", "manual", Some("客诉过的顾客")).await?;
    let fresh_goods = app.list_categories(&ctx).await?.into_iter().find(|c| c.name == "生鲜").map(|c| c.id);
    let rule = quanyu_domain::customer::TagRule {
        event: quanyu_domain::customer::ORDER_PAID_EVENT.to_owned(),
        category_id: fresh_goods,
        min_count: 3,
        window_days: 30,
    };
    app.create_rule_tag(&ctx, "生鲜常客", rule, Some("30 天内买过 3 次生鲜")).await?;
    let mut rng = Rng::new(seed ^ 0x7A65);
    for member in members {
        if rng.chance(COMPLAINT_SHARE) {
            app.set_customer_tag(&ctx, member.id, "投诉", true).await?;
        }
    }
    app.save_audience(&ctx, "上海大区成熟期未投诉", r#"stage = "maturity" and region = "SH" and not #投诉"#).await?;
    Ok(())
}

/// A flash sale (秒杀) in every store, running for the next 30 days: half price on a popular
/// packaged SKU (not one of the limited-time ones), 50 to sell, 2 per customer, so the mall's
/// flash-sale page has something to count down to.
pub async fn flash_sales(app: &App, shelf: &[Sku], stores: &[Store]) -> anyhow::Result<usize> {
    let ctx = Ctx::system();
    let packaged: Vec<&Sku> = shelf.iter().filter(|sku| !sku.sold_by_weight).collect();
    let Some(sku) = packaged.get(LIMITED_TIME_SKUS).or(packaged.first()) else { return Ok(0) };
    let price = (sku.prices.base.fen() / 2 / 10 * 10).max(10);
    let starts_at = Utc::now();
    for store in stores {
        let draft = FlashSaleDraft {
            store_id: Some(store.id),
            sku_id: Some(sku.id),
            price,
            quota: 50,
            per_customer_limit: 2,
            starts_at: Some(starts_at),
            ends_at: Some(starts_at + Duration::days(30)),
            hold_minutes: None,
        };
        app.create_flash_sale(&ctx, draft, &no_reply).await.with_context(|| format!("flash sale at {}", store.code))?;
    }
    Ok(stores.len())
}
