//! Steps 2 to 4: which promotions are in force, which lines each one takes, and what each takes
//! off them.
//!
//! Lines are handed out first, best promotion first (higher priority, then lower id), before
//! any amount is computed; then the steps run in pipeline order, each promotion on its own
//! lines. A promotion that takes lines but in the end gives nothing (its threshold is not met,
//! the cart holds no complete bundle) is withdrawn and the quote recomputed without it, so it
//! never keeps another promotion off a line for nothing. Every round withdraws at least one
//! promotion, so this ends; the result depends only on the promotions, not on their order.

use std::cmp::Reverse;

use crate::{DomainResult, Money, ids::SkuId};

use super::{
    allocate::allocate,
    breakdown::PricingStep,
    request::{AmountOffTier, BundleItem, Customer, PercentOffTier, PriceRequest, Promotion, PromotionKind, SkuPrice},
    sheet::{Line, Rule, Sheet, checked_sum, money, overflow, rate_off},
    wording,
};

/// Runs steps 2 to 4 on a sheet that went through step 1.
pub(super) fn apply<'a>(priced: &Sheet<'a>, request: &PriceRequest) -> DomainResult<Sheet<'a>> {
    let mut candidates = in_force(request);
    loop {
        let mut sheet = priced.clone();
        let claims = claim(&candidates, &sheet.lines, request.customer);
        let given = run(&mut sheet, &candidates, &claims, request.customer)?;
        let idle: Vec<bool> =
            claims.iter().zip(&given).map(|(lines, given)| !lines.is_empty() && *given == Money::ZERO).collect();
        if !idle.contains(&true) {
            return Ok(sheet);
        }
        candidates =
            candidates.into_iter().zip(idle).filter(|(_, idle)| !idle).map(|(promotion, _)| promotion).collect();
    }
}

/// The promotions valid at the instant priced and meant for this customer, best first.
fn in_force(request: &PriceRequest) -> Vec<&Promotion> {
    let mut promotions: Vec<&Promotion> = request
        .promotions
        .iter()
        .filter(|promotion| promotion.window.contains(request.at) && promotion.audience.includes(request.customer))
        .collect();
    promotions.sort_by_key(|promotion| (Reverse(promotion.priority), promotion.id));
    promotions
}

/// Kinds of promotion of which a line takes at most one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Item,
    AmountOffLadder,
    PercentOffLadder,
}

fn slot(kind: &PromotionKind) -> Option<Slot> {
    match kind {
        // Limited-time prices compete by price in step 2.
        PromotionKind::LimitedTimePrice { .. } => None,
        PromotionKind::BuyGetFree { .. } | PromotionKind::SecondItem { .. } | PromotionKind::Bundle { .. } => {
            Some(Slot::Item)
        }
        PromotionKind::AmountOffLadder { .. } => Some(Slot::AmountOffLadder),
        PromotionKind::PercentOffLadder { .. } => Some(Slot::PercentOffLadder),
    }
}

/// What holds a line so far.
#[derive(Debug, Clone, Default)]
struct Hold {
    touched: bool,
    exclusive: bool,
    slots: Vec<Slot>,
}

impl Hold {
    fn admits(&self, promotion: &Promotion) -> bool {
        let blocked = self.exclusive || (promotion.exclusive && self.touched);
        !blocked && slot(&promotion.kind).is_none_or(|slot| !self.slots.contains(&slot))
    }

    fn take(&mut self, promotion: &Promotion) {
        self.touched = true;
        self.exclusive |= promotion.exclusive;
        self.slots.extend(slot(&promotion.kind));
    }
}

/// The lines (indices) each candidate takes, candidates best first: a line goes to every
/// promotion that reaches it, except that an exclusive promotion takes only untouched lines and
/// keeps everyone after it off them, and a line takes one promotion per [`Slot`].
fn claim(candidates: &[&Promotion], lines: &[Line], customer: Customer) -> Vec<Vec<usize>> {
    let mut holds = vec![Hold::default(); lines.len()];
    candidates
        .iter()
        .map(|promotion| {
            let mut taken = Vec::new();
            for (index, (line, hold)) in lines.iter().zip(holds.iter_mut()).enumerate() {
                if reaches(promotion, line, customer) && hold.admits(promotion) {
                    hold.take(promotion);
                    taken.push(index);
                }
            }
            taken
        })
        .collect()
}

/// Whether `promotion` could act on `line` at all, whatever else applies.
fn reaches(promotion: &Promotion, line: &Line, customer: Customer) -> bool {
    let cart = line.cart;
    if line.activity_priced || !promotion.scope.covers(cart) {
        return false;
    }
    match &promotion.kind {
        PromotionKind::LimitedTimePrice { prices } => price_of(prices, cart.sku_id).is_some_and(|price| {
            let member_price = cart.member_unit_price.filter(|_| customer.is_member);
            price < cart.unit_price && member_price.is_none_or(|member| price < member)
        }),
        PromotionKind::BuyGetFree { .. } => !cart.sold_by_weight,
        PromotionKind::SecondItem { .. } => !cart.sold_by_weight && cart.quantity >= 2,
        PromotionKind::Bundle { items, .. } => {
            !cart.sold_by_weight && items.iter().any(|item| item.sku_id == cart.sku_id)
        }
        PromotionKind::AmountOffLadder { .. } | PromotionKind::PercentOffLadder { .. } => true,
    }
}

fn price_of(prices: &[SkuPrice], sku_id: SkuId) -> Option<Money> {
    prices.iter().find(|price| price.sku_id == sku_id).map(|price| price.unit_price)
}

/// Steps 2 to 4 with the lines handed out; returns what each candidate took off in all.
fn run(
    sheet: &mut Sheet,
    candidates: &[&Promotion],
    claims: &[Vec<usize>],
    customer: Customer,
) -> DomainResult<Vec<Money>> {
    let mut given = vec![Money::ZERO; candidates.len()];
    let credit = |given: &mut [Money], k: usize, taken: Money| -> DomainResult<()> {
        if let Some(total) = given.get_mut(k) {
            *total = total.checked_add(taken).ok_or_else(overflow)?;
        }
        Ok(())
    };

    // Step 2: the lowest of the member price and the limited-time prices that reach the line.
    for index in 0..sheet.lines.len() {
        let Some(line) = sheet.lines.get(index).filter(|line| !line.activity_priced) else { continue };
        let member_price = line.cart.member_unit_price.filter(|_| customer.is_member);
        let mut best: Option<(Money, Option<usize>)> = member_price.map(|price| (price, None));
        for (k, (promotion, lines)) in candidates.iter().zip(claims).enumerate() {
            let PromotionKind::LimitedTimePrice { prices } = &promotion.kind else { continue };
            let Some(price) = price_of(prices, line.cart.sku_id).filter(|_| lines.contains(&index)) else { continue };
            if best.is_none_or(|(best_price, _)| price < best_price) {
                best = Some((price, Some(k)));
            }
        }
        let Some((price, winner)) = best else { continue };
        let rule = match winner.and_then(|k| candidates.get(k)) {
            Some(promotion) => Rule {
                step: PricingStep::MemberOrTimeLimitedPrice,
                source: format!("time_limited_price:{}", promotion.id),
                name: promotion.name.clone(),
                text: wording::TIME_LIMITED_PRICE.to_owned(),
            },
            None => Rule {
                step: PricingStep::MemberOrTimeLimitedPrice,
                source: "member_price".to_owned(),
                name: wording::MEMBER_PRICE.to_owned(),
                text: wording::MEMBER_PRICE.to_owned(),
            },
        };
        let taken = sheet.reprice(&rule, index, price)?;
        if let Some(k) = winner {
            credit(&mut given, k, taken)?;
        }
    }

    // Step 3: item promotions, each on its own lines.
    for (k, (promotion, lines)) in candidates.iter().zip(claims).enumerate() {
        if slot(&promotion.kind) != Some(Slot::Item) {
            continue;
        }
        let rule = promotion_rule(promotion, PricingStep::ItemPromotion, wording::promotion(&promotion.kind));
        let taken = match &promotion.kind {
            PromotionKind::BuyGetFree { buy, free } => buy_get_free(sheet, &rule, lines, *buy, *free)?,
            PromotionKind::SecondItem { pay_bp } => second_item(sheet, &rule, lines, *pay_bp)?,
            PromotionKind::Bundle { items, price } => bundle(sheet, &rule, lines, items, *price)?,
            _ => continue,
        };
        credit(&mut given, k, taken)?;
    }

    // Step 4: ladders, best first; thresholds against the amounts after step 3.
    let after_items: Vec<Money> = sheet.lines.iter().map(|line| line.amount).collect();
    for (k, (promotion, lines)) in candidates.iter().zip(claims).enumerate() {
        let spend = checked_sum(lines.iter().filter_map(|&index| after_items.get(index).copied()))?;
        let taken = match &promotion.kind {
            PromotionKind::AmountOffLadder { tiers, per_each } => {
                amount_off_ladder(sheet, promotion, lines, spend, tiers, *per_each)?
            }
            PromotionKind::PercentOffLadder { tiers } => percent_off_ladder(sheet, promotion, lines, spend, tiers)?,
            _ => continue,
        };
        credit(&mut given, k, taken)?;
    }
    Ok(given)
}

fn promotion_rule(promotion: &Promotion, step: PricingStep, text: String) -> Rule {
    Rule { step, source: format!("promotion:{}", promotion.id), name: promotion.name.clone(), text }
}

/// Of every `buy + free` units on the lines, the `free` cheapest go free.
fn buy_get_free(sheet: &mut Sheet, rule: &Rule, lines: &[usize], buy: u32, free: u32) -> DomainResult<Money> {
    let mut units: Vec<(Money, i32, usize, i64)> = lines
        .iter()
        .filter_map(|&index| {
            sheet.lines.get(index).map(|line| (line.unit_price, line.cart.line_no, index, line.cart.quantity))
        })
        .collect();
    units.sort_unstable();
    let total_units: i128 = units.iter().map(|&(_, _, _, quantity)| i128::from(quantity)).sum();
    let group = i128::from(buy) + i128::from(free);
    let mut free_units = total_units.checked_div(group).unwrap_or(0) * i128::from(free);
    let mut taken = Money::ZERO;
    for (unit_price, _, index, quantity) in units {
        if free_units == 0 {
            break;
        }
        let on_line = free_units.min(i128::from(quantity));
        free_units -= on_line;
        let discount = money(on_line * i128::from(unit_price.fen()))?;
        taken = taken.checked_add(sheet.take(rule, index, discount)?).ok_or_else(overflow)?;
    }
    Ok(taken)
}

/// Of every two units on a line, the second pays `pay_bp`; rounded once per line.
fn second_item(sheet: &mut Sheet, rule: &Rule, lines: &[usize], pay_bp: u32) -> DomainResult<Money> {
    let mut taken = Money::ZERO;
    for &index in lines {
        let Some(line) = sheet.lines.get(index) else { continue };
        let seconds = money(i128::from(line.cart.quantity / 2) * i128::from(line.unit_price.fen()))?;
        let discount = rate_off(seconds, pay_bp)?;
        taken = taken.checked_add(sheet.take(rule, index, discount)?).ok_or_else(overflow)?;
    }
    Ok(taken)
}

/// As many complete sets as the lines hold sell at `price` each. The units of a set come from
/// each SKU's lines in line order; the saving is spread over them by their value.
fn bundle(sheet: &mut Sheet, rule: &Rule, lines: &[usize], items: &[BundleItem], price: Money) -> DomainResult<Money> {
    let lines_of = |sku_id: SkuId| {
        let mut of_sku: Vec<(i32, usize, i64, Money)> = lines
            .iter()
            .filter_map(|&index| sheet.lines.get(index).map(|line| (line, index)))
            .filter(|(line, _)| line.cart.sku_id == sku_id)
            .map(|(line, index)| (line.cart.line_no, index, line.cart.quantity, line.unit_price))
            .collect();
        of_sku.sort_unstable();
        of_sku
    };
    let sets = items
        .iter()
        .map(|item| {
            let units: i128 = lines_of(item.sku_id).iter().map(|&(_, _, quantity, _)| i128::from(quantity)).sum();
            units.checked_div(i128::from(item.quantity)).unwrap_or(0)
        })
        .min()
        .unwrap_or(0);
    if sets == 0 {
        return Ok(Money::ZERO);
    }
    // (line index, line number, value of its units in the sets)
    let mut in_sets: Vec<(usize, i32, Money)> = Vec::new();
    for item in items {
        let mut needed = sets * i128::from(item.quantity);
        for (line_no, index, quantity, unit_price) in lines_of(item.sku_id) {
            let units = needed.min(i128::from(quantity));
            needed -= units;
            in_sets.push((index, line_no, money(units * i128::from(unit_price.fen()))?));
        }
    }
    let value = checked_sum(in_sets.iter().map(|&(_, _, value)| value))?;
    let discount = value.checked_sub(money(sets * i128::from(price.fen()))?).ok_or_else(overflow)?;
    if discount <= Money::ZERO {
        return Ok(Money::ZERO);
    }
    let weights: Vec<(i32, Money)> = in_sets.iter().map(|&(_, line_no, value)| (line_no, value)).collect();
    let mut taken = Money::ZERO;
    for ((index, _, _), share) in in_sets.into_iter().zip(allocate(discount, &weights)) {
        taken = taken.checked_add(sheet.take(rule, index, share)?).ok_or_else(overflow)?;
    }
    Ok(taken)
}

/// 满减: the highest tier `spend` reaches, once or per each threshold, spread over the lines.
fn amount_off_ladder(
    sheet: &mut Sheet,
    promotion: &Promotion,
    lines: &[usize],
    spend: Money,
    tiers: &[AmountOffTier],
    per_each: bool,
) -> DomainResult<Money> {
    let reached = tiers.iter().filter(|tier| tier.threshold <= spend).max_by_key(|tier| (tier.threshold, tier.amount));
    let Some(&tier) = reached else { return Ok(Money::ZERO) };
    let times = if per_each { spend.fen().checked_div(tier.threshold.fen()).unwrap_or(0) } else { 1 };
    let current = sheet.amount_of(lines)?;
    let discount = (i128::from(tier.amount.fen()) * i128::from(times)).min(i128::from(current.fen()));
    let rule = promotion_rule(promotion, PricingStep::OrderPromotion, wording::amount_off_tier(tier, per_each));
    sheet.spread(&rule, lines, money(discount)?)
}

/// 满折: the rate of the highest tier `spend` reaches, on the lines' current amounts.
fn percent_off_ladder(
    sheet: &mut Sheet,
    promotion: &Promotion,
    lines: &[usize],
    spend: Money,
    tiers: &[PercentOffTier],
) -> DomainResult<Money> {
    let reached =
        tiers.iter().filter(|tier| tier.threshold <= spend).max_by_key(|tier| (tier.threshold, Reverse(tier.pay_bp)));
    let Some(&tier) = reached else { return Ok(Money::ZERO) };
    let discount = rate_off(sheet.amount_of(lines)?, tier.pay_bp)?;
    let rule = promotion_rule(promotion, PricingStep::OrderPromotion, wording::percent_off_tier(tier));
    sheet.spread(&rule, lines, discount)
}
