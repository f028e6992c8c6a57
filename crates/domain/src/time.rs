//! Time: instants are UTC; a store's wall clock and business day come from its IANA time zone
//! (default Asia/Shanghai).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::{DomainError, DomainResult};

pub type Timestamp = DateTime<Utc>;

/// A validated IANA time zone such as `Asia/Shanghai`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(Tz);

impl TimeZone {
    pub const SHANGHAI: TimeZone = TimeZone(Tz::Asia__Shanghai);

    pub fn parse(raw: &str) -> DomainResult<TimeZone> {
        raw.trim()
            .parse::<Tz>()
            .map(TimeZone)
            .map_err(|_| DomainError::UnknownValue { field: "time_zone", value: raw.to_owned() })
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The business day an instant belongs to. A business day starts at `day_start` local time
    /// (stores that close after midnight count 01:30 as the previous day with `day_start` 04:00).
    pub fn business_day(&self, at: Timestamp, day_start: NaiveTime) -> NaiveDate {
        let local = at.with_timezone(&self.0).naive_local();
        let date = local.date();
        if local.time() < day_start { date.pred_opt().unwrap_or(date) } else { date }
    }

    /// The local wall-clock time of an instant.
    pub fn local_time(&self, at: Timestamp) -> NaiveTime {
        at.with_timezone(&self.0).time()
    }

    /// The local wall-clock date and time of an instant.
    pub fn local_datetime(&self, at: Timestamp) -> NaiveDateTime {
        at.with_timezone(&self.0).naive_local()
    }

    /// The instant a local wall-clock time names: the earlier of two on a clock set back, and on
    /// a clock set forward past it the instant it would be by the clock before the change
    /// (02:30 in a gap from 02:00 to 03:00 is 03:30), as calendars do.
    pub fn instant_at(&self, local: NaiveDateTime) -> Timestamp {
        use chrono::{LocalResult, Offset as _, TimeZone as _};
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
            LocalResult::None => {
                let before = self.0.offset_from_utc_datetime(&(local - chrono::Duration::days(1))).fix();
                (local - chrono::Duration::seconds(before.local_minus_utc().into())).and_utc()
            }
        }
    }

    /// The calendar day an instant falls on, locally.
    pub fn local_date(&self, at: Timestamp) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// The instant a calendar day starts here (the first valid local time on a DST gap).
    pub fn day_start(&self, day: NaiveDate) -> Timestamp {
        use chrono::TimeZone as _;
        let midnight = day.and_time(NaiveTime::MIN);
        self.0
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|| midnight.and_utc())
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::SHANGHAI
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn business_day_follows_local_clock() {
        let tz = TimeZone::SHANGHAI;
        let midnight = NaiveTime::MIN;
        // 2026-11-24 17:00 UTC is 2026-11-25 01:00 in Shanghai.
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0).unwrap();
        assert_eq!(tz.business_day(at, midnight), NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
        let four = NaiveTime::from_hms_opt(4, 0, 0).unwrap();
        assert_eq!(tz.business_day(at, four), NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    }

    #[test]
    fn wall_clock_times_name_instants() {
        let local = |d, h, m| NaiveDate::from_ymd_opt(2026, 3, d).unwrap().and_hms_opt(h, m, 0).unwrap();
        let shanghai = TimeZone::SHANGHAI;
        let at = shanghai.instant_at(local(8, 1, 0));
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 3, 7, 17, 0, 0).unwrap());
        assert_eq!(shanghai.local_datetime(at), local(8, 1, 0));
        // New York sets its clocks forward from 02:00 to 03:00 on 2026-03-08.
        let new_york = TimeZone::parse("America/New_York").unwrap();
        assert_eq!(new_york.instant_at(local(8, 2, 30)), Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap());
        assert_eq!(new_york.local_datetime(new_york.instant_at(local(8, 2, 30))), local(8, 3, 30));
    }

    #[test]
    fn parses_zones() {
        assert_eq!(TimeZone::parse("Asia/Urumqi").unwrap().name(), "Asia/Urumqi");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }
}
