//! The quote being built: each line's running amount with its adjustments, the rules applied
//! so far and the discount of each step. Every discount goes through [`Sheet::take`] (one line)
//! or [`Sheet::spread`] (several, by [`allocate`]), which keep the three consistent and never
//! take a line below zero.

use crate::{
    DomainError, DomainResult, Money,
    order::{LineBreakdown, PricingError},
};

use super::{
    allocate::allocate,
    breakdown::{AppliedRule, LineAdjustment, PricedLine, PricingStep, StepDiscounts},
    request::{CartLine, FULL_RATE_BP},
};

/// A cart line on its way through the pipeline.
#[derive(Debug, Clone)]
pub(super) struct Line<'a> {
    pub cart: &'a CartLine,
    pub base_amount: Money,
    /// The price the line sells at after steps 1 and 2, per unit or per kilogram.
    pub unit_price: Money,
    /// Step 1 set a flash or activity price: steps 2 to 5 leave the line alone.
    pub activity_priced: bool,
    pub amount: Money,
    pub adjustments: Vec<LineAdjustment>,
}

/// A rule about to adjust the quote.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub step: PricingStep,
    pub source: String,
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub(super) struct Sheet<'a> {
    pub lines: Vec<Line<'a>>,
    pub applied: Vec<AppliedRule>,
    pub discounts: StepDiscounts,
}

impl<'a> Sheet<'a> {
    /// Every line at its regular price; an error when the amounts overflow.
    pub fn new(cart: &'a [CartLine]) -> DomainResult<Sheet<'a>> {
        let lines = cart
            .iter()
            .map(|cart_line| {
                let base_amount = extend(cart_line, cart_line.unit_price)?;
                Ok(Line {
                    cart: cart_line,
                    base_amount,
                    unit_price: cart_line.unit_price,
                    activity_priced: false,
                    amount: base_amount,
                    adjustments: Vec::new(),
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        checked_sum(lines.iter().map(|line| line.base_amount))?;
        Ok(Sheet { lines, applied: Vec::new(), discounts: StepDiscounts::default() })
    }

    /// Re-prices line `index` at `unit_price` when that is lower than its current price, and
    /// returns what that took off. Only for steps 1 and 2, while a line's amount is still its
    /// unit price extended.
    pub fn reprice(&mut self, rule: &Rule, index: usize, unit_price: Money) -> DomainResult<Money> {
        let Some(line) = self.lines.get_mut(index) else { return Ok(Money::ZERO) };
        if unit_price >= line.unit_price {
            return Ok(Money::ZERO);
        }
        line.unit_price = unit_price;
        let discount = line.amount.checked_sub(extend(line.cart, unit_price)?).ok_or_else(overflow)?;
        self.take(rule, index, discount)
    }

    /// Takes `discount` off line `index`, but never more than the line's amount, and returns
    /// what it took.
    pub fn take(&mut self, rule: &Rule, index: usize, discount: Money) -> DomainResult<Money> {
        let Some(line) = self.lines.get_mut(index) else { return Ok(Money::ZERO) };
        let discount = discount.min(line.amount).max(Money::ZERO);
        if discount == Money::ZERO {
            return Ok(Money::ZERO);
        }
        let amount = Money::ZERO.checked_sub(discount).ok_or_else(overflow)?;
        line.amount = line.amount.checked_sub(discount).ok_or_else(overflow)?;
        line.adjustments.push(LineAdjustment {
            step: rule.step,
            source: rule.source.clone(),
            rule: rule.text.clone(),
            amount,
        });
        let line_no = line.cart.line_no;
        self.note(rule, Some(line_no), amount)?;
        Ok(discount)
    }

    /// Spreads `discount` over the lines `indices` in proportion to their amounts (see
    /// [`allocate`]), capped at their sum, and returns what it took.
    pub fn spread(&mut self, rule: &Rule, indices: &[usize], discount: Money) -> DomainResult<Money> {
        let targets: Vec<(usize, i32, Money)> = indices
            .iter()
            .filter_map(|&index| self.lines.get(index).map(|line| (index, line.cart.line_no, line.amount)))
            .collect();
        let weights: Vec<(i32, Money)> = targets.iter().map(|&(_, line_no, amount)| (line_no, amount)).collect();
        let mut taken = Money::ZERO;
        for (&(index, _, _), share) in targets.iter().zip(allocate(discount, &weights)) {
            taken = taken.checked_add(self.take(rule, index, share)?).ok_or_else(overflow)?;
        }
        Ok(taken)
    }

    /// Records a discount of `amount` (negative) by `rule`, on line `line_no` or, for the
    /// delivery fee, on none.
    pub fn note(&mut self, rule: &Rule, line_no: Option<i32>, amount: Money) -> DomainResult<()> {
        let step_total = self.discounts.get_mut(rule.step);
        *step_total = step_total.checked_add(amount).ok_or_else(overflow)?;
        let entry = match self.applied.iter().position(|applied| applied.source == rule.source) {
            Some(position) => self.applied.get_mut(position),
            None => {
                self.applied.push(AppliedRule {
                    step: rule.step,
                    source: rule.source.clone(),
                    name: rule.name.clone(),
                    rule: rule.text.clone(),
                    amount: Money::ZERO,
                    line_nos: Vec::new(),
                });
                self.applied.last_mut()
            }
        };
        if let Some(entry) = entry {
            entry.amount = entry.amount.checked_add(amount).ok_or_else(overflow)?;
            entry.line_nos.extend(line_no.filter(|no| !entry.line_nos.contains(no)));
        }
        Ok(())
    }

    /// Σ the current amounts of the lines `indices`.
    pub fn amount_of(&self, indices: &[usize]) -> DomainResult<Money> {
        checked_sum(indices.iter().filter_map(|&index| self.lines.get(index)).map(|line| line.amount))
    }

    /// Σ the current amounts of every line.
    pub fn goods_amount(&self) -> DomainResult<Money> {
        checked_sum(self.lines.iter().map(|line| line.amount))
    }

    pub fn into_priced_lines(self) -> Vec<PricedLine> {
        self.lines
            .into_iter()
            .map(|line| PricedLine {
                line_no: line.cart.line_no,
                sku_id: line.cart.sku_id,
                quantity: line.cart.quantity,
                sold_by_weight: line.cart.sold_by_weight,
                unit_price: line.cart.unit_price,
                base_amount: line.base_amount,
                adjustments: line.adjustments,
                amount: line.amount,
            })
            .collect()
    }
}

/// `unit_price` × the line's quantity, rounded half up once for goods sold by weight, by the
/// same rule as the order's [`LineBreakdown::price`].
fn extend(line: &CartLine, unit_price: Money) -> DomainResult<Money> {
    LineBreakdown::price(unit_price, None, line.quantity, line.sold_by_weight).map(|priced| priced.base_amount).map_err(
        |error| match error {
            PricingError::NonPositiveQuantity => {
                DomainError::OutOfRange { field: "lines.quantity", min: 1, max: i64::MAX }
            }
            PricingError::Overflow => overflow(),
        },
    )
}

pub(super) fn checked_sum(amounts: impl IntoIterator<Item = Money>) -> DomainResult<Money> {
    Money::checked_sum(amounts).ok_or_else(overflow)
}

/// An amount computed in i128 (products of amounts and quantities), back in range.
pub(super) fn money(fen: i128) -> DomainResult<Money> {
    i64::try_from(fen).map(Money::from_fen).map_err(|_| overflow())
}

pub(super) fn overflow() -> DomainError {
    DomainError::MoneyOverflow { field: "lines" }
}

/// The part of `amount` (non-negative) that a rate of `pay_bp` takes off, rounded half up to
/// the 分: 9折 (9,000 bp) of ¥215.80 takes off ¥21.58.
pub(super) fn rate_off(amount: Money, pay_bp: u32) -> DomainResult<Money> {
    let full = i128::from(FULL_RATE_BP);
    let off = full - i128::from(pay_bp).min(full);
    money((i128::from(amount.fen().max(0)) * off + full / 2) / full)
}
