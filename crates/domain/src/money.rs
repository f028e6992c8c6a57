//! Money: an integer number of 分 (1/100 CNY). Never a float.
//!
//! Arithmetic is checked: an overflow is an error, not a wrap. Amounts are shown as `¥12.30`
//! and parsed from yuan strings such as `12.3` or `12.30` (CSV imports, forms).

use crate::Expected;
use std::fmt;

use crate::{DomainError, DomainResult};

/// An amount in 分. Negative amounts exist (refunds, adjustments); prices are non-negative,
/// which [`Money::price`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);
    /// The largest amount a single price may hold: ¥100,000,000.00. Far above any retail price,
    /// far below `i64::MAX`, so that quantities × prices summed over an order cannot overflow.
    pub const MAX_PRICE: Money = Money(10_000_000_000);

    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// A price: non-negative and at most [`Money::MAX_PRICE`].
    pub fn price(field: &'static str, fen: i64) -> DomainResult<Money> {
        if fen < 0 {
            Err(DomainError::NegativeMoney { field })
        } else if fen > Self::MAX_PRICE.0 {
            Err(DomainError::MoneyOverflow { field })
        } else {
            Ok(Money(fen))
        }
    }

    /// Parses a yuan amount written with at most two decimals: `12`, `12.3`, `12.30`, `-0.5`.
    pub fn parse_yuan(field: &'static str, raw: &str) -> DomainResult<Money> {
        let malformed = || DomainError::Malformed { field, expected: Expected::YuanAmount };
        let raw = raw.trim().trim_start_matches('¥');
        let (negative, digits) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 2 {
            return Err(malformed());
        }
        let yuan: i64 = whole.parse().map_err(|_| DomainError::MoneyOverflow { field })?;
        let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| malformed())?;
        let fen =
            yuan.checked_mul(100).and_then(|f| f.checked_add(cents)).ok_or(DomainError::MoneyOverflow { field })?;
        Ok(Money(if negative { -fen } else { fen }))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Money)
    }

    /// Sums amounts, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(amounts: I) -> Option<Money> {
        amounts.into_iter().try_fold(Money::ZERO, Money::checked_add)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The amount in yuan with two decimals and no symbol, as CSV exports write it.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Money {
    /// `¥12.30`, `-¥0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}¥{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_as_yuan() {
        for (fen, shown) in
            [(1230, "¥12.30"), (5, "¥0.05"), (-5, "-¥0.05"), (0, "¥0.00"), (i64::MIN, "-¥92233720368547758.08")]
        {
            assert_eq!(Money::from_fen(fen).to_string(), shown);
        }
    }

    #[test]
    fn parses_yuan() {
        for (raw, fen) in [("12.30", 1230), ("12.3", 1230), ("12", 1200), ("¥0.05", 5), ("-1.5", -150), (" 7 ", 700)] {
            assert_eq!(Money::parse_yuan("price", raw), Ok(Money::from_fen(fen)), "{raw}");
        }
        for raw in ["", "1.234", "abc", "1,2", ".5", "1.-2", "--1"] {
            assert!(Money::parse_yuan("price", raw).is_err(), "{raw}");
        }
        assert_eq!(
            Money::parse_yuan("price", "999999999999999999999"),
            Err(DomainError::MoneyOverflow { field: "price" })
        );
    }

    #[test]
    fn prices_are_bounded() {
        assert_eq!(Money::price("p", -1), Err(DomainError::NegativeMoney { field: "p" }));
        assert_eq!(Money::price("p", Money::MAX_PRICE.fen() + 1), Err(DomainError::MoneyOverflow { field: "p" }));
        assert_eq!(Money::price("p", 0), Ok(Money::ZERO));
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(Money::from_fen(i64::MAX).checked_add(Money::from_fen(1)), None);
        assert_eq!(Money::checked_sum([Money::from_fen(1), Money::from_fen(2)]), Some(Money::from_fen(3)));
        assert_eq!(Money::from_fen(i64::MAX / 2 + 1).checked_mul(2), None);
    }

    proptest! {
        #[test]
        fn yuan_string_round_trips(fen in -1_000_000_000_000i64..1_000_000_000_000) {
            let money = Money::from_fen(fen);
            prop_assert_eq!(Money::parse_yuan("x", &money.to_yuan_string()), Ok(money));
            prop_assert_eq!(Money::parse_yuan("x", &money.to_string()).ok(), (fen >= 0).then_some(money));
        }
    }
}
