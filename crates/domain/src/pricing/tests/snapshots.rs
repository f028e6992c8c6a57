//! Snapshots of whole breakdowns for the cases people get wrong: the text is what a receipt
//! would say, line by line, so a change in rounding or stacking shows up as a readable diff.

use super::*;

/// A breakdown as text: each line with its adjustments, then the rules applied and the totals.
fn render(breakdown: &PriceBreakdown) -> String {
    let mut out = String::new();
    for line in &breakdown.lines {
        out.push_str(&format!("line {} ×{} {}\n", line.line_no, line.quantity, line.base_amount));
        for a in &line.adjustments {
            out.push_str(&format!("  {}: {} {}\n", a.step.as_str(), a.rule, a.amount));
        }
        out.push_str(&format!("  = {}\n", line.amount));
    }
    for rule in &breakdown.applied {
        out.push_str(&format!("applied {} {} {} on {:?}\n", rule.name, rule.rule, rule.amount, rule.line_nos));
    }
    out.push_str(&format!(
        "subtotal {} points {} ({}) delivery {} total {}\n",
        breakdown.subtotal,
        breakdown.points_used,
        breakdown.points_value,
        breakdown.delivery_fee,
        breakdown.total_payable
    ));
    out
}

fn snapshot(request: &PriceRequest, expected: &str) {
    let breakdown = priced(request);
    let rendered = render(&breakdown);
    assert_eq!(rendered, expected, "\n--- rendered ---\n{rendered}");
}

#[test]
fn rounding_on_three_lines_with_5_off_5() {
    // ¥1 spread over three ¥2 lines: 33⅓ each, the odd 分 to the first of the equal lines.
    let mut request = request(vec![line(1, 1, "2", 1), line(2, 2, "2", 1), line(3, 3, "2", 1)]);
    request.promotions = vec![Promotion { name: "满5减1".into(), ..promotion(1, amount_off(&[("5", "1")], false)) }];
    snapshot(
        &request,
        "line 1 ×1 ¥2.00
  order_promotion: 满5减1 -¥0.34
  = ¥1.66
line 2 ×1 ¥2.00
  order_promotion: 满5减1 -¥0.33
  = ¥1.67
line 3 ×1 ¥2.00
  order_promotion: 满5减1 -¥0.33
  = ¥1.67
applied 满5减1 满5减1 -¥1.00 on [1, 2, 3]
subtotal ¥6.00 points 0 (¥0.00) delivery ¥0.00 total ¥5.00
",
    );
}

#[test]
fn a_coupon_a_member_price_and_points() {
    let member_line = CartLine { member_unit_price: Some(yuan("10.90")), ..line(1, 1, "12.90", 2) };
    let mut request = request(vec![member_line, line(2, 2, "8", 1)]);
    request.customer = Customer { is_member: true, first_order: false };
    request.coupons = vec![Coupon {
        template_name: "满20减5".into(),
        ..coupon(1, CouponKind::AmountOff { amount: yuan("5") }, "20")
    }];
    request.points =
        Some(PointsRedemption { points: 1_000, rate: PointsRate { points: 100, fen: 100 }, max_share_bp: 5_000 });
    snapshot(
        &request,
        "line 1 ×2 ¥25.80
  member_or_time_limited_price: 会员价 -¥4.00
  coupon: 满20减5 -¥3.66
  points: 1000积分抵¥10.00 -¥7.31
  = ¥10.83
line 2 ×1 ¥8.00
  coupon: 满20减5 -¥1.34
  points: 1000积分抵¥10.00 -¥2.69
  = ¥3.97
applied 会员价 会员价 -¥4.00 on [1]
applied 满20减5 满20减5 -¥5.00 on [1, 2]
applied 积分抵扣 1000积分抵¥10.00 -¥10.00 on [1, 2]
subtotal ¥33.80 points 1000 (¥10.00) delivery ¥0.00 total ¥14.80
",
    );
}

#[test]
fn buy_one_get_one_with_a_percentage_coupon() {
    let mut request = request(vec![line(1, 1, "6", 2), line(2, 2, "5", 1)]);
    let bogo = PromotionKind::BuyGetFree { buy: 1, free: 1 };
    request.promotions =
        vec![Promotion { name: "买一送一".into(), scope: Scope::Skus(vec![sku(1)]), ..promotion(1, bogo) }];
    let ten_off = CouponKind::PercentOff { pay_bp: 9_000, cap: Some(yuan("5")) };
    request.coupons = vec![Coupon { template_name: "9折券".into(), ..coupon(2, ten_off, "0") }];
    snapshot(
        &request,
        "line 1 ×2 ¥12.00
  item_promotion: 买1送1 -¥6.00
  coupon: 9折，最高减5 -¥0.60
  = ¥5.40
line 2 ×1 ¥5.00
  coupon: 9折，最高减5 -¥0.50
  = ¥4.50
applied 买一送一 买1送1 -¥6.00 on [1]
applied 9折券 9折，最高减5 -¥1.10 on [1, 2]
subtotal ¥17.00 points 0 (¥0.00) delivery ¥0.00 total ¥9.90
",
    );
}
