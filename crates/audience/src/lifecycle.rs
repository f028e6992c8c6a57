//! RFM scores and the six lifecycle stages (引入 introduction, 成长 growth, 成熟 maturity, 衰退
//! decline, 沉默 silence, 流失 churned), computed from a customer's order activity by
//! configurable rules.
//!
//! Days are whole days since any fixed epoch (the caller's choice), so this module needs no
//! calendar. Everything here is a pure function of an [`Activity`] and the rules: the same
//! inputs give the same scores whether they are computed one order at a time or in a nightly
//! rebuild of every customer.

/// The scoring window: orders count towards frequency and monetary (and the last order) for
/// this many days back from the scoring day.
pub const WINDOW_DAYS: i64 = 365;

/// What the scores are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    /// The day the customer registered.
    pub registered_day: i64,
    /// The day of their last paid order, if any.
    pub last_order_day: Option<i64>,
    /// Paid orders in the scoring window (the last 365 days).
    pub orders: i64,
    /// What those orders paid, less refunds, in 分.
    pub spend: i64,
}

/// Score thresholds: a value reaching `thresholds[0]` scores 5, `[1]` 4, `[2]` 3, `[3]` 2, and
/// anything else 1. For recency the thresholds are maxima (days since the last order), for
/// frequency and monetary minima.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RfmBins {
    pub recency_days: [i64; 4],
    pub frequency: [i64; 4],
    pub monetary: [i64; 4],
}

impl Default for RfmBins {
    /// Within a week 5, a month 4, a quarter 3, half a year 2; 10, 5, 3, 2 orders a year;
    /// ¥2,000, ¥1,000, ¥500, ¥200 a year.
    fn default() -> RfmBins {
        RfmBins {
            recency_days: [7, 30, 90, 180],
            frequency: [10, 5, 3, 2],
            monetary: [200_000, 100_000, 50_000, 20_000],
        }
    }
}

impl RfmBins {
    /// Thresholds must be ordered from the best score down.
    pub fn is_valid(&self) -> bool {
        let descending = |t: &[i64; 4]| t.windows(2).all(|w| matches!(w, [a, b] if a > b));
        let ascending = |t: &[i64; 4]| t.windows(2).all(|w| matches!(w, [a, b] if a < b));
        ascending(&self.recency_days)
            && self.recency_days[0] >= 0
            && descending(&self.frequency)
            && descending(&self.monetary)
    }
}

/// Recency, frequency and monetary scores, 1 to 5 each; recency 0 for a customer who never
/// ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rfm {
    pub r: u8,
    pub f: u8,
    pub m: u8,
}

/// How many of `hits` are false before the first true one (all of them when none is): which
/// rule of an ordered list applies first.
fn leading_misses(hits: impl IntoIterator<Item = bool>) -> usize {
    // Counted without a branch per rule: a rebuild scores millions of customers, and whether
    // one meets a rule follows no pattern a branch predictor could learn (a branch here took a
    // tenth of the rebuild).
    let (mut missed_all_so_far, mut missed) = (true, 0);
    for hit in hits {
        missed_all_so_far &= !hit;
        missed += usize::from(missed_all_so_far);
    }
    missed
}

/// 5 when the first threshold is reached, 4 when only from the second on, and so on.
fn score(hits: impl IntoIterator<Item = bool>) -> u8 {
    5 - leading_misses(hits).min(4) as u8
}

/// The scores of `activity` on `today`.
pub fn rfm(activity: &Activity, today: i64, bins: &RfmBins) -> Rfm {
    // Recency is worked out for everyone and zeroed for who never ordered, without a branch:
    // in a rebuild, who did follows no pattern either.
    let since = (today - activity.last_order_day.unwrap_or(today)).max(0);
    let recency = score(bins.recency_days.map(|max| since <= max));
    Rfm {
        r: recency * u8::from(activity.last_order_day.is_some()),
        f: score(bins.frequency.map(|min| activity.orders >= min)),
        m: score(bins.monetary.map(|min| activity.spend >= min)),
    }
}

/// The eight classic RFM segments, by whether each score is high (3 or more).
pub fn rfm_segment(rfm: Rfm) -> &'static str {
    match (rfm.r >= 3, rfm.f >= 3, rfm.m >= 3) {
        (true, true, true) => "重要价值客户",
        (true, false, true) => "重要发展客户",
        (false, true, true) => "重要保持客户",
        (false, false, true) => "重要挽留客户",
        (true, true, false) => "一般价值客户",
        (true, false, false) => "一般发展客户",
        (false, true, false) => "一般保持客户",
        (false, false, false) => "一般挽留客户",
    }
}

/// The stable code of [`rfm_segment`]'s segment (`important_value`, `general_retain`…), for
/// translations and filters.
pub fn rfm_segment_code(rfm: Rfm) -> &'static str {
    match (rfm.r >= 3, rfm.f >= 3, rfm.m >= 3) {
        (true, true, true) => "important_value",
        (true, false, true) => "important_develop",
        (false, true, true) => "important_keep",
        (false, false, true) => "important_retain",
        (true, true, false) => "general_value",
        (true, false, false) => "general_develop",
        (false, true, false) => "general_keep",
        (false, false, false) => "general_retain",
    }
}

/// A lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// 引入: registered, no order yet (and not long ago).
    Introduction,
    /// 成长: ordering, not yet often.
    Growth,
    /// 成熟: ordering often and lately.
    Maturity,
    /// 衰退: the last order is getting old.
    Decline,
    /// 沉默: no order for a long while.
    Silence,
    /// 流失: gone.
    Churned,
}

impl Stage {
    pub const ALL: [Stage; 6] =
        [Stage::Introduction, Stage::Growth, Stage::Maturity, Stage::Decline, Stage::Silence, Stage::Churned];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Introduction => "introduction",
            Stage::Growth => "growth",
            Stage::Maturity => "maturity",
            Stage::Decline => "decline",
            Stage::Silence => "silence",
            Stage::Churned => "churned",
        }
    }

    pub fn parse(raw: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The stage's name as the growth team says it.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Introduction => "引入期",
            Stage::Growth => "成长期",
            Stage::Maturity => "成熟期",
            Stage::Decline => "衰退期",
            Stage::Silence => "沉默期",
            Stage::Churned => "流失期",
        }
    }
}

/// When a customer moves between stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LifecycleRules {
    /// Orders in the window that make a recent customer mature.
    pub maturity_orders: i64,
    /// Days since the last order after which a customer declines…
    pub decline_after_days: i64,
    /// …falls silent…
    pub silence_after_days: i64,
    /// …and is counted as churned.
    pub churned_after_days: i64,
    /// Days a registered customer without an order stays in introduction before falling silent.
    pub introduction_days: i64,
}

impl Default for LifecycleRules {
    fn default() -> LifecycleRules {
        LifecycleRules {
            maturity_orders: 3,
            decline_after_days: 60,
            silence_after_days: 120,
            churned_after_days: 180,
            introduction_days: 30,
        }
    }
}

impl LifecycleRules {
    pub fn is_valid(&self) -> bool {
        self.maturity_orders >= 1
            && self.introduction_days >= 1
            && 0 < self.decline_after_days
            && self.decline_after_days < self.silence_after_days
            && self.silence_after_days < self.churned_after_days
    }
}

/// The stage of `activity` on `today`: for a customer who ordered, churned, silent or
/// declining by the days since the last order (the first that applies), else mature or growing
/// by the orders; for one who never did, in introduction, silent or churned by the days since
/// registering.
pub fn stage(activity: &Activity, today: i64, rules: &LifecycleRules) -> Stage {
    // Both cases are worked out and one is picked, each by its first rule that applies, without
    // a branch (see `leading_misses`).
    let since_last = (today - activity.last_order_day.unwrap_or(today)).max(0);
    static ORDERED: [Stage; 5] = [Stage::Churned, Stage::Silence, Stage::Decline, Stage::Maturity, Stage::Growth];
    let ordered = ORDERED[leading_misses([
        since_last > rules.churned_after_days,
        since_last > rules.silence_after_days,
        since_last > rules.decline_after_days,
        activity.orders >= rules.maturity_orders,
    ])];
    let since_registered = today - activity.registered_day;
    static NEVER: [Stage; 3] = [Stage::Introduction, Stage::Silence, Stage::Churned];
    let never = NEVER
        [leading_misses([since_registered <= rules.introduction_days, since_registered <= rules.churned_after_days])];
    [never, ordered][usize::from(activity.last_order_day.is_some())]
}

/// The rules HQ sets: RFM bins and lifecycle thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ScoringRules {
    pub bins: RfmBins,
    pub lifecycle: LifecycleRules,
}

/// A customer's RFM scores and lifecycle stage on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    pub rfm: Rfm,
    pub stage: Stage,
}

/// Scores `activity` on `today`: the one place the rules are applied, whether for one order
/// (the product's incremental path), a page of customers (its nightly pass) or a columnar
/// [rebuild](crate::rebuild) of millions.
pub fn assess(activity: &Activity, today: i64, rules: &ScoringRules) -> Assessment {
    Assessment { rfm: rfm(activity, today, &rules.bins), stage: stage(activity, today, &rules.lifecycle) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn each_segment_has_its_own_code() {
        let mut pairs = std::collections::BTreeSet::new();
        for r in [1, 3] {
            for f in [1, 3] {
                for m in [1, 3] {
                    let rfm = Rfm { r, f, m };
                    pairs.insert((rfm_segment(rfm), rfm_segment_code(rfm)));
                }
            }
        }
        let codes: std::collections::BTreeSet<_> = pairs.iter().map(|(_, code)| code).collect();
        assert_eq!((pairs.len(), codes.len()), (8, 8));
        assert_eq!(rfm_segment_code(Rfm { r: 5, f: 4, m: 3 }), "important_value");
    }

    fn active(days_ago: i64, orders: i64, spend: i64) -> Activity {
        Activity { registered_day: 0, last_order_day: Some(1_000 - days_ago), orders, spend }
    }

    #[test]
    fn scores_follow_the_bins() {
        let bins = RfmBins::default();
        assert_eq!(rfm(&active(3, 12, 300_000), 1_000, &bins), Rfm { r: 5, f: 5, m: 5 });
        assert_eq!(rfm(&active(30, 5, 100_000), 1_000, &bins), Rfm { r: 4, f: 4, m: 4 });
        assert_eq!(rfm(&active(31, 3, 49_999), 1_000, &bins), Rfm { r: 3, f: 3, m: 2 });
        assert_eq!(rfm(&active(400, 1, 0), 1_000, &bins), Rfm { r: 1, f: 1, m: 1 });
        let never = Activity { registered_day: 990, ..Activity::default() };
        assert_eq!(rfm(&never, 1_000, &bins), Rfm { r: 0, f: 1, m: 1 });
        assert_eq!(rfm_segment(Rfm { r: 5, f: 4, m: 3 }), "重要价值客户");
        assert_eq!(rfm_segment(Rfm { r: 1, f: 1, m: 5 }), "重要挽留客户");
        assert!(bins.is_valid());
        assert!(!RfmBins { recency_days: [30, 7, 90, 180], ..bins }.is_valid());
    }

    #[test]
    fn stages_follow_orders_and_time() {
        let rules = LifecycleRules::default();
        let new = Activity { registered_day: 990, ..Activity::default() };
        assert_eq!(stage(&new, 1_000, &rules), Stage::Introduction);
        assert_eq!(stage(&new, 1_100, &rules), Stage::Silence, "registered long ago, never bought");
        assert_eq!(stage(&new, 1_200, &rules), Stage::Churned);
        assert_eq!(stage(&active(5, 1, 0), 1_000, &rules), Stage::Growth);
        assert_eq!(stage(&active(5, 3, 0), 1_000, &rules), Stage::Maturity);
        assert_eq!(stage(&active(61, 9, 0), 1_000, &rules), Stage::Decline);
        assert_eq!(stage(&active(121, 9, 0), 1_000, &rules), Stage::Silence);
        assert_eq!(stage(&active(181, 9, 0), 1_000, &rules), Stage::Churned);
        assert!(rules.is_valid());
        assert!(!LifecycleRules { silence_after_days: 50, ..rules }.is_valid());
        assert_eq!(Stage::parse("maturity"), Some(Stage::Maturity));
    }

    /// The stage rules as a chain of conditions, as they read.
    fn stage_by_conditions(activity: &Activity, today: i64, rules: &LifecycleRules) -> Stage {
        let Some(last) = activity.last_order_day else {
            let since = today - activity.registered_day;
            return if since <= rules.introduction_days {
                Stage::Introduction
            } else if since <= rules.churned_after_days {
                Stage::Silence
            } else {
                Stage::Churned
            };
        };
        let since = (today - last).max(0);
        if since > rules.churned_after_days {
            Stage::Churned
        } else if since > rules.silence_after_days {
            Stage::Silence
        } else if since > rules.decline_after_days {
            Stage::Decline
        } else if activity.orders >= rules.maturity_orders {
            Stage::Maturity
        } else {
            Stage::Growth
        }
    }

    fn any_activity() -> impl Strategy<Value = Activity> {
        (-500i64..1_500, prop::option::of(-500i64..1_500), -2i64..20, -10i64..400_000).prop_map(
            |(registered_day, last_order_day, orders, spend)| Activity {
                registered_day,
                last_order_day,
                orders,
                spend,
            },
        )
    }

    proptest! {
        #[test]
        fn a_score_counts_the_thresholds_missed_before_the_first_reached(hits in prop::collection::vec(any::<bool>(), 0..6)) {
            let leading_misses = hits.iter().take_while(|hit| !**hit).count().min(4);
            prop_assert_eq!(usize::from(score(hits)), 5 - leading_misses);
        }

        #[test]
        fn stages_follow_the_rules_as_they_read(
            activity in any_activity(),
            today in 0i64..1_200,
            // Invalid rules too: the stage takes the first rule that applies whatever the order.
            thresholds in prop::array::uniform5(-5i64..250),
        ) {
            let [maturity_orders, decline_after_days, silence_after_days, churned_after_days, introduction_days] = thresholds;
            let rules = LifecycleRules { maturity_orders, decline_after_days, silence_after_days, churned_after_days, introduction_days };
            prop_assert_eq!(stage(&activity, today, &rules), stage_by_conditions(&activity, today, &rules));
            prop_assert_eq!(stage(&activity, today, &LifecycleRules::default()), stage_by_conditions(&activity, today, &LifecycleRules::default()));
        }

        #[test]
        fn recency_is_zero_without_an_order_and_scored_by_the_days_since_with_one(
            activity in any_activity(), today in 0i64..1_200,
        ) {
            let bins = RfmBins::default();
            let expected = match activity.last_order_day {
                None => 0,
                Some(day) => {
                    let since = (today - day).max(0);
                    5 - bins.recency_days.iter().take_while(|&&max| since > max).count().min(4) as u8
                }
            };
            prop_assert_eq!(rfm(&activity, today, &bins).r, expected);
        }

        #[test]
        fn scores_stay_in_range_and_never_improve_with_time(
            days_ago in 0i64..1_000, orders in 0i64..100, spend in 0i64..10_000_000, later in 0i64..500,
        ) {
            let bins = RfmBins::default();
            let now = rfm(&active(days_ago, orders, spend), 1_000, &bins);
            let then = rfm(&active(days_ago, orders, spend), 1_000 + later, &bins);
            prop_assert!((1..=5).contains(&now.r) && (1..=5).contains(&now.f) && (1..=5).contains(&now.m));
            prop_assert!(then.r <= now.r, "recency only decays");
            let rules = LifecycleRules::default();
            let order = |s: Stage| Stage::ALL.iter().position(|x| *x == s).unwrap_or(0).max(2);
            // Past maturity, a stage only moves towards churned as time passes.
            prop_assert!(order(stage(&active(days_ago, orders, spend), 1_000 + later, &rules))
                >= order(stage(&active(days_ago, orders, spend), 1_000, &rules)));
        }
    }
}
