//! Properties over random carts, promotions, coupons, points and delivery: the breakdown always
//! adds up to the 分, never goes negative, never charges more than the regular price, does not
//! depend on the order of the promotions, and refunds in any parts return exactly what was paid.

use proptest::{collection::vec, option, prelude::*, sample::select};

use super::*;

/// SKUs 1 to 6; SKU 6 is sold by weight. Odd SKUs are yoghurt (under dairy), even ones bakery.
fn cart_line(line_no: i32) -> impl Strategy<Value = CartLine> {
    (1u128..=6, 1i64..=6, 1i64..=3_000, 1i64..=20_000, option::of(0i64..=20_000), option::weighted(0.2, 0i64..=20_000))
        .prop_map(move |(sku_no, units, grams, price, member, activity)| {
            let by_weight = sku_no == 6;
            let (category_id, ancestors) =
                if sku_no % 2 == 1 { (category(YOGHURT), vec![category(DAIRY)]) } else { (category(BAKERY), vec![]) };
            CartLine {
                line_no,
                sku_id: sku(sku_no),
                category_id,
                ancestor_category_ids: ancestors,
                quantity: if by_weight { grams } else { units },
                sold_by_weight: by_weight,
                unit_price: Money::from_fen(price),
                member_unit_price: member.map(Money::from_fen),
                activity_price: activity.map(|fen| ActivityPrice {
                    activity_id: id(900 + line_no as u128),
                    unit_price: Money::from_fen(fen),
                }),
            }
        })
}

fn cart() -> impl Strategy<Value = Vec<CartLine>> {
    (0usize..=6).prop_flat_map(|len| (1..=len as i32).map(cart_line).collect::<Vec<_>>())
}

fn fen(max: i64) -> impl Strategy<Value = Money> {
    (0..=max).prop_map(Money::from_fen)
}

fn pay_bp() -> impl Strategy<Value = u32> {
    prop_oneof![select(vec![0u32, 5_000, 8_500, 9_000, 10_000]), 0u32..=10_000]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        3 => Just(Scope::All),
        1 => Just(Scope::Categories(vec![category(DAIRY)])),
        1 => vec(1u128..=7, 1..=3).prop_map(|skus| Scope::Skus(skus.into_iter().map(sku).collect())),
    ]
}

fn window() -> impl Strategy<Value = TimeWindow> {
    let hour = chrono::Duration::hours(1);
    prop_oneof![
        4 => Just(TimeWindow::ALWAYS),
        1 => Just(TimeWindow { starts_at: Some(now() - hour), ends_at: Some(now() + hour) }),
        1 => Just(TimeWindow { starts_at: None, ends_at: Some(now()) }),
    ]
}

fn distinct_skus() -> impl Strategy<Value = Vec<SkuId>> {
    proptest::sample::subsequence((1u128..=6).collect::<Vec<_>>(), 1..=3)
        .prop_map(|skus| skus.into_iter().map(sku).collect())
}

fn promotion_kind() -> impl Strategy<Value = PromotionKind> {
    prop_oneof![
        (distinct_skus(), vec(fen(20_000), 3)).prop_map(|(skus, prices)| PromotionKind::LimitedTimePrice {
            prices: skus.into_iter().zip(prices).map(|(sku_id, unit_price)| SkuPrice { sku_id, unit_price }).collect(),
        }),
        (1u32..=3, 1u32..=2).prop_map(|(buy, free)| PromotionKind::BuyGetFree { buy, free }),
        pay_bp().prop_map(|pay_bp| PromotionKind::SecondItem { pay_bp }),
        (distinct_skus(), vec(1u32..=3, 3), fen(30_000)).prop_map(|(skus, quantities, price)| {
            PromotionKind::Bundle {
                items: skus
                    .into_iter()
                    .zip(quantities)
                    .map(|(sku_id, quantity)| BundleItem { sku_id, quantity })
                    .collect(),
                price,
            }
        }),
        (vec((1i64..=50_000, fen(10_000)), 1..=3), any::<bool>()).prop_map(|(tiers, per_each)| {
            PromotionKind::AmountOffLadder {
                tiers: tiers
                    .into_iter()
                    .map(|(threshold, amount)| AmountOffTier { threshold: Money::from_fen(threshold), amount })
                    .collect(),
                per_each,
            }
        }),
        vec((fen(50_000), pay_bp()), 1..=3).prop_map(|tiers| PromotionKind::PercentOffLadder {
            tiers: tiers.into_iter().map(|(threshold, pay_bp)| PercentOffTier { threshold, pay_bp }).collect(),
        }),
    ]
}

/// Up to six promotions with distinct ids and priorities that often tie.
fn promotions() -> impl Strategy<Value = Vec<Promotion>> {
    let one = (promotion_kind(), 0i32..=2, option::weighted(0.25, Just(())), window(), 0usize..3, scope());
    vec(one, 0..=6).prop_map(|promotions| {
        promotions
            .into_iter()
            .enumerate()
            .map(|(i, (kind, priority, exclusive, window, audience, scope))| Promotion {
                priority,
                exclusive: exclusive.is_some(),
                window,
                audience: Audience::ALL.get(audience).copied().unwrap_or(Audience::Everyone),
                scope,
                ..promotion(i as u128 + 1, kind)
            })
            .collect()
    })
}

fn coupons() -> impl Strategy<Value = Vec<Coupon>> {
    let kind = prop_oneof![
        fen(10_000).prop_map(|amount| CouponKind::AmountOff { amount }),
        (pay_bp(), option::of(fen(5_000))).prop_map(|(pay_bp, cap)| CouponKind::PercentOff { pay_bp, cap }),
        option::of(fen(1_000)).prop_map(|amount| CouponKind::Delivery { amount }),
    ];
    let channels = prop_oneof![Just(vec![]), Just(vec![Channel::Online]), Just(vec![Channel::Store])];
    // Ids from a small range so that the same coupon is sometimes chosen twice.
    vec((1u128..=5, kind, fen(30_000), scope(), window(), channels), 0..=4).prop_map(|coupons| {
        coupons
            .into_iter()
            .map(|(n, kind, threshold, scope, window, channels)| Coupon {
                threshold,
                scope,
                window,
                channels,
                ..coupon(n, kind, "0")
            })
            .collect()
    })
}

fn price_request() -> impl Strategy<Value = PriceRequest> {
    let points = option::of((0i64..=5_000, 1i64..=100, 1i64..=100, pay_bp()).prop_map(
        |(points, rate_points, rate_fen, max_share_bp)| PointsRedemption {
            points,
            rate: PointsRate { points: rate_points, fen: rate_fen },
            max_share_bp,
        },
    ));
    let delivery = option::of(
        (fen(1_000), option::of(fen(20_000))).prop_map(|(fee, free_threshold)| Delivery { fee, free_threshold }),
    );
    let customer =
        (any::<bool>(), any::<bool>()).prop_map(|(is_member, first_order)| Customer { is_member, first_order });
    (cart(), customer, promotions(), coupons(), points, delivery).prop_map(
        |(lines, customer, promotions, coupons, points, delivery)| PriceRequest {
            customer,
            promotions,
            coupons,
            points,
            delivery,
            ..request(lines)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (a) Σ lines = total − delivery, (b) no line below zero and no adjustment above it,
    /// (c) total ≤ subtotal + delivery, and the other bookkeeping identities.
    #[test]
    fn breakdowns_add_up_to_the_fen(request in price_request()) {
        let breakdown = quote(&request).unwrap();
        prop_assert_eq!(invariants(&breakdown), Ok(()));
        let base_fee = request.delivery.map_or(Money::ZERO, |delivery| delivery.fee);
        prop_assert!(breakdown.delivery_fee <= base_fee);
        prop_assert_eq!(breakdown.lines.len(), request.lines.len());
    }

    /// (d) The same request gives the same breakdown, whatever the order of its promotions.
    #[test]
    fn quotes_are_deterministic(request in price_request(), rotate in 0usize..6) {
        let breakdown = quote(&request).unwrap();
        prop_assert_eq!(&quote(&request).unwrap(), &breakdown);
        let mut shuffled = request.clone();
        shuffled.promotions.reverse();
        let len = shuffled.promotions.len().max(1);
        shuffled.promotions.rotate_left(rotate % len);
        prop_assert_eq!(&quote(&shuffled).unwrap(), &breakdown);
    }

    /// (e) Refunding every unit of every line, in random parts, returns exactly what the goods
    /// cost: the total less the delivery fee.
    #[test]
    fn refunds_in_parts_return_exactly_the_goods(request in price_request(), cuts in vec(any::<u16>(), 1..16)) {
        let breakdown = quote(&request).unwrap();
        let mut refunded_in_all = Money::ZERO;
        for line in &breakdown.lines {
            let (mut quantity, mut amount) = (0, Money::ZERO);
            for cut in cuts.iter().cycle() {
                let remaining = line.quantity - quantity;
                if remaining == 0 {
                    break;
                }
                let part = 1 + i64::from(*cut) % remaining;
                let give = line.refund(quantity, amount, part).unwrap();
                prop_assert!(give >= Money::ZERO);
                (quantity, amount) = (quantity + part, amount.checked_add(give).unwrap());
                prop_assert!(amount <= line.amount);
            }
            prop_assert_eq!(amount, line.amount);
            refunded_in_all = refunded_in_all.checked_add(amount).unwrap();
        }
        prop_assert_eq!(Some(refunded_in_all), breakdown.total_payable.checked_sub(breakdown.delivery_fee));
    }
}
