//! Worked examples with realistic yuan amounts, each computed by hand in its comments.

use super::*;
use crate::Expected;
use crate::{DomainError, order::Adjustment};

fn source(kind: &str, n: u128) -> String {
    format!("{kind}:{}", id(n))
}

fn rejection(n: u128, reason: RejectionReason, shortfall: Option<&str>) -> RejectedCoupon {
    RejectedCoupon { coupon_id: id(n), reason, shortfall: shortfall.map(yuan) }
}

/// ¥120.00 + 2 × ¥47.90 = ¥215.80.
fn cart_215_80() -> Vec<CartLine> {
    vec![line(1, 1, "120.00", 1), line(2, 2, "47.90", 2)]
}

#[test]
fn weighed_goods_are_extended_once_half_up() {
    // 1,234 g at ¥23.90/kg is ¥29.4926 → ¥29.49.
    let apples = CartLine { sold_by_weight: true, ..line(1, 1, "23.90", 1234) };
    let breakdown = priced(&request(vec![apples.clone()]));
    assert_eq!((breakdown.subtotal, breakdown.total_payable), (yuan("29.49"), yuan("29.49")));

    // A member pays ¥19.90/kg: ¥24.5566 → ¥24.56, so the member price takes off ¥4.93.
    let apples = CartLine { member_unit_price: Some(yuan("19.90")), ..apples };
    let mut member = request(vec![apples]);
    member.customer.is_member = true;
    let breakdown = priced(&member);
    assert_eq!(adjustments(&breakdown), vec![vec![("member_price".to_owned(), -493)]]);
    assert_eq!(breakdown.total_payable, yuan("24.56"));

    // Goods sold by weight take no unit promotion.
    member.promotions = vec![promotion(1, PromotionKind::BuyGetFree { buy: 1, free: 1 })];
    assert_eq!(priced(&member).total_payable, yuan("24.56"));
}

#[test]
fn amount_off_ladder_takes_the_highest_tier_reached() {
    // 满200减30 on ¥215.80: ¥30 spread as 1668.21… + 1331.79… 分 → 1668 + 1332.
    let mut cart = request(cart_215_80());
    cart.promotions = vec![promotion(1, amount_off(&[("100", "10"), ("200", "30")], false))];
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [10_332, 8_248]);
    assert_eq!(breakdown.total_payable, yuan("185.80"));
    assert_eq!(breakdown.discounts.order_promotions, yuan("-30"));
    let applied = &breakdown.applied[0];
    assert_eq!((applied.source.as_str(), applied.rule.as_str()), (source("promotion", 1).as_str(), "满200减30"));
    assert_eq!((applied.name.as_str(), applied.line_nos.as_slice()), ("promotion 1", &[1, 2][..]));

    // 每满100减10: twice ¥10 = ¥20, spread 1112.14… + 887.85… → 1112 + 888.
    cart.promotions = vec![promotion(1, amount_off(&[("100", "10")], true))];
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [10_888, 8_692]);
    assert_eq!(breakdown.applied[0].rule, "每满100减10");

    // Below every tier, nothing.
    cart.promotions = vec![promotion(1, amount_off(&[("300", "50")], false))];
    assert_eq!(priced(&cart).total_payable, yuan("215.80"));
}

#[test]
fn percent_off_ladder_and_one_ladder_of_each_kind() {
    let percent_off = PromotionKind::PercentOffLadder {
        tiers: vec![
            PercentOffTier { threshold: yuan("200"), pay_bp: 9_500 },
            PercentOffTier { threshold: yuan("300"), pay_bp: 9_000 },
        ],
    };
    // 满200打9.5折 on ¥215.80: ¥10.79 off, spread 600 + 479 exactly.
    let mut cart = request(cart_215_80());
    cart.promotions = vec![promotion(1, percent_off.clone())];
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [11_400, 9_101]);
    assert_eq!(breakdown.applied[0].rule, "满200打9.5折");

    // A 满减 (ranked first) and a 满折 stack: ¥215.80 − ¥30 = ¥185.80, then 5% of that is
    // ¥9.29 → ¥176.51. A second 满减 finds every line taken by the first and gives nothing.
    let first = Promotion { priority: 2, ..promotion(2, amount_off(&[("200", "30")], false)) };
    let second = Promotion { priority: 1, ..promotion(3, amount_off(&[("100", "15")], false)) };
    cart.promotions = vec![promotion(1, percent_off), second, first];
    let breakdown = priced(&cart);
    assert_eq!(breakdown.total_payable, yuan("176.51"));
    let sources: Vec<&str> = breakdown.applied.iter().map(|rule| rule.source.as_str()).collect();
    assert_eq!(sources, [source("promotion", 2), source("promotion", 1)]);
}

#[test]
fn buy_n_get_m_frees_the_cheapest_units_in_scope() {
    // Two yoghurts (乳品 by their parent category) and a bakery line outside the scope.
    let bread = CartLine { category_id: category(BAKERY), ancestor_category_ids: vec![], ..line(3, 3, "8.00", 2) };
    let mut cart = request(vec![line(1, 1, "6.50", 3), line(2, 2, "4.90", 1), bread]);
    let in_dairy = |kind| Promotion { scope: Scope::Categories(vec![category(DAIRY)]), ..promotion(1, kind) };

    // 买一送一: 4 units make 2 pairs, so the 2 cheapest go free: ¥4.90 and one ¥6.50.
    cart.promotions = vec![in_dairy(PromotionKind::BuyGetFree { buy: 1, free: 1 })];
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [1_300, 0, 1_600]);
    assert_eq!(breakdown.applied[0].rule, "买1送1");
    assert_eq!(breakdown.discounts.item_promotions, yuan("-11.40"));

    // 买2送1: one group of 3, the ¥4.90 unit goes free.
    cart.promotions = vec![in_dairy(PromotionKind::BuyGetFree { buy: 2, free: 1 })];
    assert_eq!(line_amounts(&priced(&cart)), [1_950, 0, 1_600]);
}

#[test]
fn second_item_at_a_rate_rounds_once_per_line() {
    let on_sku = |n, sku_no, pay_bp| Promotion {
        scope: Scope::Skus(vec![sku(sku_no)]),
        ..promotion(n, PromotionKind::SecondItem { pay_bp })
    };
    let mut cart = request(vec![line(1, 1, "12.90", 3), line(2, 2, "9.99", 2), line(3, 3, "5.00", 1)]);
    cart.promotions = vec![on_sku(1, 1, 5_000), on_sku(2, 2, 8_500), on_sku(3, 3, 5_000)];
    let breakdown = priced(&cart);
    // 3 × ¥12.90 with one second unit at half price: −¥6.45. 2 × ¥9.99 with the second at
    // 8.5折: −¥1.4985 → −¥1.50. A single unit has no second.
    assert_eq!(line_amounts(&breakdown), [3_225, 1_848, 500]);
    let rules: Vec<&str> = breakdown.applied.iter().map(|rule| rule.rule.as_str()).collect();
    assert_eq!(rules, ["第二件5折", "第二件8.5折"]);
}

#[test]
fn bundle_price_for_complete_sets() {
    // 组合价 ¥29.90 for a coffee (¥18.00) and two croissants (¥8.50): one set saves ¥5.10,
    // spread over the set's ¥18.00 + ¥17.00 as 262.28… + 247.71… → 262 + 248.
    let bundle = PromotionKind::Bundle {
        items: vec![BundleItem { sku_id: sku(1), quantity: 1 }, BundleItem { sku_id: sku(2), quantity: 2 }],
        price: yuan("29.90"),
    };
    let mut cart = request(vec![line(1, 1, "18.00", 1), line(2, 2, "8.50", 3)]);
    cart.promotions = vec![promotion(1, bundle)];
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [1_538, 2_302]);
    assert_eq!(breakdown.applied[0].rule, "组合价¥29.90");

    // One croissant makes no set.
    cart.lines[1].quantity = 1;
    let breakdown = priced(&cart);
    assert!(breakdown.applied.is_empty());
    assert_eq!(breakdown.total_payable, yuan("26.50"));
}

#[test]
fn the_lower_of_member_and_time_limited_price_wins() {
    let member_priced =
        |line_no, sku_no| CartLine { member_unit_price: Some(yuan("10.90")), ..line(line_no, sku_no, "12.90", 2) };
    let limited = PromotionKind::LimitedTimePrice {
        prices: vec![
            SkuPrice { sku_id: sku(1), unit_price: yuan("9.90") },
            SkuPrice { sku_id: sku(2), unit_price: yuan("11.90") },
        ],
    };
    let mut cart = request(vec![member_priced(1, 1), member_priced(2, 2)]);
    cart.promotions = vec![promotion(1, limited)];
    cart.customer.is_member = true;
    // SKU 1: ¥9.90 beats the member's ¥10.90; SKU 2: ¥10.90 beats ¥11.90. Never both.
    let breakdown = priced(&cart);
    assert_eq!(
        adjustments(&breakdown),
        [vec![(source("time_limited_price", 1), -600)], vec![("member_price".to_owned(), -400)]]
    );
    assert_eq!(breakdown.discounts.member_or_time_limited_price, yuan("-10.00"));

    // A non-member gets the limited-time price on both.
    cart.customer.is_member = false;
    assert_eq!(line_amounts(&priced(&cart)), [1_980, 2_380]);
}

#[test]
fn an_exclusive_promotion_keeps_the_others_off_its_lines() {
    let cart_lines = vec![line(1, 1, "12.90", 2), line(2, 2, "100.00", 1)];
    let exclusive = |priority, tier: (&str, &str)| Promotion {
        exclusive: true,
        priority,
        ..promotion(1, amount_off(&[tier], false))
    };
    let second_item = |priority| Promotion { priority, ..promotion(2, PromotionKind::SecondItem { pay_bp: 5_000 }) };
    let mut cart = request(cart_lines);

    // The exclusive 满100减10 ranks first and takes both lines: no second item at half price.
    // ¥10 over ¥25.80 + ¥100.00: 205.08… + 794.91… → 205 + 795.
    cart.promotions = vec![second_item(0), exclusive(10, ("100", "10"))];
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [2_375, 9_205]);
    assert_eq!(breakdown.applied.len(), 1);

    // Ranked second, it takes only the line no one touched: ¥100.00, just enough.
    cart.promotions = vec![second_item(10), exclusive(0, ("100", "10"))];
    assert_eq!(line_amounts(&priced(&cart)), [1_935, 9_000]);

    // An exclusive promotion that gives nothing (满200减30 on ¥125.80) blocks nothing.
    cart.promotions = vec![second_item(0), exclusive(10, ("200", "30"))];
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [1_935, 10_000]);
    assert_eq!(breakdown.applied[0].source, source("promotion", 2));
}

#[test]
fn flash_priced_lines_take_no_promotion_and_no_coupon() {
    let flash = CartLine {
        activity_price: Some(ActivityPrice { activity_id: id(7), unit_price: yuan("9.90") }),
        ..line(1, 1, "59.90", 1)
    };
    let mut cart = request(vec![flash, line(2, 2, "30.00", 1)]);
    cart.coupons = vec![
        coupon(1, CouponKind::AmountOff { amount: yuan("5") }, "30"),
        Coupon { scope: Scope::Skus(vec![sku(1)]), ..coupon(2, CouponKind::AmountOff { amount: yuan("3") }, "0") },
    ];
    cart.promotions = vec![promotion(
        3,
        PromotionKind::PercentOffLadder { tiers: vec![PercentOffTier { threshold: yuan("0"), pay_bp: 9_000 }] },
    )];
    // The flash line stays at ¥9.90; ¥30.00 takes 9折 (−¥3.00), and the 满30减5 coupon counts
    // only it: ¥27.00 after promotions is short by ¥3.00.
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [990, 2_700]);
    assert_eq!(adjustments(&breakdown)[0], [(source("activity_price", 7), -5_000)]);
    assert_eq!(
        breakdown.rejected_coupons,
        [rejection(1, RejectionReason::ThresholdNotMet, Some("3.00")), rejection(2, RejectionReason::OutOfScope, None),]
    );

    // Without the promotion, the coupon applies to the ¥30.00 line alone.
    cart.promotions.clear();
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [990, 2_500]);
    assert_eq!(breakdown.discounts.activity_price, yuan("-50.00"));
}

#[test]
fn one_order_coupon_stacks_with_category_coupons() {
    let bread = CartLine { category_id: category(BAKERY), ancestor_category_ids: vec![], ..line(2, 2, "47.90", 2) };
    let mut cart = request(vec![line(1, 1, "120.00", 1), bread]);
    let dairy = Coupon {
        scope: Scope::Categories(vec![category(DAIRY)]),
        ..coupon(3, CouponKind::AmountOff { amount: yuan("5") }, "50")
    };
    cart.coupons = vec![
        coupon(1, CouponKind::AmountOff { amount: yuan("30") }, "200"),
        coupon(2, CouponKind::AmountOff { amount: yuan("10") }, "100"),
        dairy.clone(),
        Coupon { id: id(4), ..dairy },
        coupon(1, CouponKind::AmountOff { amount: yuan("30") }, "200"),
    ];
    // The dairy coupon first: ¥120.00 → ¥115.00. Then 满200减30 (the ¥215.80 after
    // promotions qualifies) over ¥115.00 + ¥95.80: 1636.62… + 1363.37… → 1637 + 1363.
    let breakdown = priced(&cart);
    assert_eq!(line_amounts(&breakdown), [9_863, 8_217]);
    assert_eq!(breakdown.discounts.coupons, yuan("-35"));
    assert_eq!(
        breakdown.rejected_coupons,
        [
            rejection(2, RejectionReason::NotStackable, None),
            rejection(4, RejectionReason::NotStackable, None),
            rejection(1, RejectionReason::NotStackable, None),
        ]
    );
    let rules: Vec<(&str, &str)> = breakdown.applied.iter().map(|r| (r.source.as_str(), r.rule.as_str())).collect();
    assert_eq!(rules, [(source("coupon", 3).as_str(), "满50减5"), (source("coupon", 1).as_str(), "满200减30")]);
}

#[test]
fn each_coupon_kind_and_why_a_coupon_is_refused() {
    let yesterday = now() - chrono::Duration::days(1);
    let cases = [
        // 折扣券 8折, at most ¥20: 20% of ¥215.80 is ¥43.16, capped.
        (coupon(1, CouponKind::PercentOff { pay_bp: 8_000, cap: Some(yuan("20")) }, "100"), "195.80", None),
        (coupon(1, CouponKind::PercentOff { pay_bp: 9_500, cap: None }, "0"), "205.01", None),
        // 无门槛减5.
        (coupon(1, CouponKind::AmountOff { amount: yuan("5") }, "0"), "210.80", None),
        (
            coupon(1, CouponKind::AmountOff { amount: yuan("50") }, "300"),
            "215.80",
            Some(rejection(1, RejectionReason::ThresholdNotMet, Some("84.20"))),
        ),
        (
            Coupon {
                window: TimeWindow { starts_at: None, ends_at: Some(yesterday) },
                ..coupon(1, CouponKind::AmountOff { amount: yuan("5") }, "0")
            },
            "215.80",
            Some(rejection(1, RejectionReason::Expired, None)),
        ),
        (
            Coupon { channels: vec![Channel::Store], ..coupon(1, CouponKind::AmountOff { amount: yuan("5") }, "0") },
            "215.80",
            Some(rejection(1, RejectionReason::WrongChannel, None)),
        ),
        (
            Coupon {
                stores: vec![StoreId::from_uuid(id(0xe15e))],
                ..coupon(1, CouponKind::AmountOff { amount: yuan("5") }, "0")
            },
            "215.80",
            Some(rejection(1, RejectionReason::WrongStore, None)),
        ),
        (
            Coupon { scope: Scope::Skus(vec![sku(9)]), ..coupon(1, CouponKind::AmountOff { amount: yuan("5") }, "0") },
            "215.80",
            Some(rejection(1, RejectionReason::OutOfScope, None)),
        ),
        // A product coupon on the ¥95.80 line.
        (
            Coupon { scope: Scope::Skus(vec![sku(2)]), ..coupon(1, CouponKind::AmountOff { amount: yuan("8") }, "90") },
            "207.80",
            None,
        ),
    ];
    for (chosen, total, rejected) in cases {
        let mut cart = request(cart_215_80());
        cart.coupons = vec![chosen.clone()];
        let breakdown = priced(&cart);
        assert_eq!(breakdown.total_payable, yuan(total), "{chosen:?}");
        assert_eq!(breakdown.rejected_coupons, Vec::from_iter(rejected), "{chosen:?}");
    }
}

#[test]
fn delivery_is_free_above_the_threshold_or_with_a_delivery_coupon() {
    let free = coupon(1, CouponKind::Delivery { amount: None }, "0");
    let three_off = coupon(2, CouponKind::Delivery { amount: Some(yuan("3")) }, "0");
    let mut cart = request(vec![line(1, 1, "35.00", 1)]);
    cart.delivery = Some(Delivery { fee: yuan("5"), free_threshold: Some(yuan("39")) });
    assert_eq!((priced(&cart).delivery_fee, priced(&cart).total_payable), (yuan("5"), yuan("40")));

    // ¥35 is short of 满39免运费: the first delivery coupon takes the fee, the second cannot stack.
    cart.coupons = vec![free.clone(), three_off.clone()];
    let breakdown = priced(&cart);
    assert_eq!((breakdown.delivery_fee, breakdown.discounts.delivery), (Money::ZERO, yuan("-5")));
    assert_eq!(breakdown.rejected_coupons, [rejection(2, RejectionReason::NotStackable, None)]);
    cart.coupons = vec![three_off];
    assert_eq!(priced(&cart).delivery_fee, yuan("2"));

    // At ¥39 delivery is free already; the coupon stays in the wallet.
    cart.lines[0].unit_price = yuan("39");
    cart.coupons = vec![free.clone()];
    let breakdown = priced(&cart);
    assert_eq!((breakdown.delivery_fee, breakdown.total_payable), (Money::ZERO, yuan("39")));
    assert_eq!(breakdown.applied[0].rule, "满39免运费");
    assert_eq!(breakdown.rejected_coupons, [rejection(1, RejectionReason::NoDiscount, None)]);

    // Nothing delivered, nothing to take off.
    cart.delivery = None;
    assert_eq!(priced(&cart).rejected_coupons, [rejection(1, RejectionReason::NoDiscount, None)]);
}

#[test]
fn points_pay_whole_blocks_up_to_their_share() {
    // 1,000 points at 100 points = ¥1, at most half of ¥15.00: 7 blocks, 700 points, ¥7.00,
    // spread 466.66… + 233.33… → 467 + 233.
    let mut cart = request(vec![line(1, 1, "10.00", 1), line(2, 2, "5.00", 1)]);
    cart.points =
        Some(PointsRedemption { points: 1_000, rate: PointsRate { points: 100, fen: 100 }, max_share_bp: 5_000 });
    let breakdown = priced(&cart);
    assert_eq!((breakdown.points_used, breakdown.points_value), (700, yuan("7")));
    assert_eq!(line_amounts(&breakdown), [533, 267]);
    assert_eq!(breakdown.applied[0].rule, "700积分抵¥7.00");

    // Fewer points than one block pay nothing.
    cart.points = Some(PointsRedemption { points: 99, ..cart.points.unwrap() });
    assert_eq!(priced(&cart).points_used, 0);
}

#[test]
fn promotions_apply_only_in_their_window_and_to_their_audience() {
    let ten_off = amount_off(&[("0", "10")], false);
    let tomorrow = now() + chrono::Duration::days(1);
    let mut cart = request(vec![line(1, 1, "50.00", 1)]);
    cart.promotions = vec![
        Promotion { audience: Audience::Members, ..promotion(1, ten_off.clone()) },
        Promotion { audience: Audience::FirstOrder, ..promotion(2, ten_off.clone()) },
        Promotion { window: TimeWindow { starts_at: Some(tomorrow), ends_at: None }, ..promotion(3, ten_off) },
    ];
    assert_eq!(priced(&cart).total_payable, yuan("50"));
    cart.customer = Customer { is_member: false, first_order: true };
    let breakdown = priced(&cart);
    assert_eq!(breakdown.total_payable, yuan("40"));
    assert_eq!(breakdown.applied[0].rule, "立减10");
}

#[test]
fn a_priced_line_is_stored_and_refunded_to_the_fen() {
    let bundle = PromotionKind::Bundle {
        items: vec![BundleItem { sku_id: sku(1), quantity: 1 }, BundleItem { sku_id: sku(2), quantity: 2 }],
        price: yuan("29.90"),
    };
    let mut cart = request(vec![line(1, 1, "18.00", 1), line(2, 2, "8.50", 3)]);
    cart.promotions = vec![promotion(1, bundle)];
    let croissants = priced(&cart).lines[1].clone();

    let stored = croissants.to_line_breakdown();
    assert_eq!((stored.base_amount, stored.amount, stored.quantity), (yuan("25.50"), yuan("23.02"), 3));
    assert_eq!(stored.adjustments, [Adjustment { source: source("promotion", 1), amount: yuan("-2.48") }]);

    // ¥23.02 for 3: one unit gives back ¥7.67, then ¥7.67, and the last one the ¥7.68 left.
    assert_eq!(croissants.refund(0, Money::ZERO, 1), Some(yuan("7.67")));
    assert_eq!(croissants.refund(1, yuan("7.67"), 1), Some(yuan("7.67")));
    assert_eq!(croissants.refund(2, yuan("15.34"), 1), Some(yuan("7.68")));
    assert_eq!(croissants.refund(2, yuan("15.34"), 2), None, "more than remains");
}

#[test]
fn malformed_requests_are_refused() {
    let check = |change: fn(&mut PriceRequest), expected: DomainError| {
        let mut cart = request(cart_215_80());
        change(&mut cart);
        assert_eq!(quote(&cart), Err(expected));
    };
    check(
        |cart| cart.lines[0].quantity = 0,
        DomainError::OutOfRange { field: "lines.quantity", min: 1, max: i64::MAX },
    );
    check(
        |cart| cart.lines[1].line_no = 1,
        DomainError::Malformed { field: "lines.line_no", expected: Expected::UniqueLineNo },
    );
    check(|cart| cart.lines[0].unit_price = yuan("-1"), DomainError::NegativeMoney { field: "lines.unit_price" });
    check(
        |cart| cart.promotions = vec![promotion(1, PromotionKind::SecondItem { pay_bp: 10_001 })],
        DomainError::OutOfRange { field: "promotions.pay_bp", min: 0, max: 10_000 },
    );
    check(
        |cart| cart.promotions = vec![promotion(1, amount_off(&[("0", "5")], true))],
        DomainError::Malformed { field: "promotions.tiers", expected: Expected::PromotionTiers },
    );
    check(
        |cart| cart.promotions = vec![promotion(1, amount_off(&[("9", "1")], false)); 2],
        DomainError::Malformed { field: "promotions.id", expected: Expected::UniquePromotionId },
    );
    check(|cart| cart.lines[0].quantity = i64::MAX, DomainError::MoneyOverflow { field: "lines" });
}
