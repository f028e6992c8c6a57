//! A store's opening hours (营业时间) and the times they allow: whether it is open, when it next
//! opens and closes — on its own wall clock and as instants in its time zone — and by when an
//! order taken now can be ready.

use std::fmt;

use chrono::{Duration, NaiveDateTime, NaiveTime, Timelike as _};

use super::{Store, StoreStatus};
use crate::{DomainError, DomainResult, Expected, time::Timestamp};

/// Daily opening hours in the store's local time, written `08:00-22:00`. A closing time earlier
/// than the opening time runs past midnight (`18:00-02:00`); `00:00-24:00` is round the clock.
/// Hours are kept to the minute: a store open `08:00-22:00` is open from 08:00:00 until
/// 21:59:59.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpeningHours {
    /// Minutes after local midnight, `0..1440`.
    open_min: u16,
    /// Minutes after local midnight, `1..=1440`.
    close_min: u16,
}

impl OpeningHours {
    pub const ROUND_THE_CLOCK: OpeningHours = OpeningHours { open_min: 0, close_min: 1440 };

    pub fn parse(raw: &str) -> DomainResult<OpeningHours> {
        let malformed = || DomainError::Malformed { field: "opening_hours", expected: Expected::OpeningHours };
        let minutes = |hhmm: &str| -> Option<u16> {
            let (h, m) = hhmm.trim().split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let (open, close) = raw.split_once('-').ok_or_else(malformed)?;
        let (open_min, close_min) = (minutes(open).ok_or_else(malformed)?, minutes(close).ok_or_else(malformed)?);
        if open_min == 1440 || close_min == 0 || open_min == close_min {
            return Err(malformed());
        }
        Ok(OpeningHours { open_min, close_min })
    }

    /// Whether the store is open at a local wall-clock time.
    pub fn is_open_at(&self, local: NaiveTime) -> bool {
        let now = minute_of(local);
        if self.open_min < self.close_min {
            (self.open_min..self.close_min).contains(&now)
        } else {
            now >= self.open_min || now < self.close_min
        }
    }

    pub fn is_round_the_clock(&self) -> bool {
        *self == Self::ROUND_THE_CLOCK
    }

    /// The first wall-clock time at or after `local` at which the store is open: `local` itself
    /// when it is open then, else the next opening (today's, or tomorrow's once today's closed).
    pub fn next_open_from(&self, local: NaiveDateTime) -> NaiveDateTime {
        if self.is_open_at(local.time()) {
            return local;
        }
        // Closed: before today's opening, or (hours within one day) after today's closing.
        let day = if minute_of(local.time()) < self.open_min { local.date() } else { local.date() + Duration::days(1) };
        day.and_time(NaiveTime::MIN) + Duration::minutes(self.open_min.into())
    }

    /// When the store, open at `local`, next closes (the first wall-clock time it is closed);
    /// `None` when it is closed at `local` or never closes.
    pub fn closes_after(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        if !self.is_open_at(local.time()) || self.is_round_the_clock() {
            return None;
        }
        // Hours past midnight opened yesterday close today, or open today and close tomorrow.
        let day = if self.open_min > self.close_min && minute_of(local.time()) >= self.open_min {
            local.date() + Duration::days(1)
        } else {
            local.date()
        };
        Some(day.and_time(NaiveTime::MIN) + Duration::minutes(self.close_min.into()))
    }
}

fn minute_of(local: NaiveTime) -> u16 {
    (local.hour() * 60 + local.minute()) as u16
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (o, c) = (self.open_min, self.close_min);
        write!(f, "{:02}:{:02}-{:02}:{:02}", o / 60, o % 60, c / 60, c % 60)
    }
}

impl Store {
    /// Whether `at` falls within the store's opening hours on its own clock (whatever its status:
    /// see [`Store::is_trading_at`]).
    pub fn is_open_at(&self, at: Timestamp) -> bool {
        self.opening_hours.is_open_at(self.time_zone.local_time(at))
    }

    /// Whether the store takes orders at `at`: open status and inside its opening hours.
    pub fn is_trading_at(&self, at: Timestamp) -> bool {
        self.status == StoreStatus::Open && self.is_open_at(at)
    }

    /// The first instant at or after `at` at which the store is open: `at` itself when it is.
    pub fn next_open_from(&self, at: Timestamp) -> Timestamp {
        if self.is_open_at(at) {
            return at;
        }
        let local = self.opening_hours.next_open_from(self.time_zone.local_datetime(at));
        self.time_zone.instant_at(local).max(at)
    }

    /// When the store, open at `at`, next closes; `None` when it is closed then or never closes.
    pub fn closes_after(&self, at: Timestamp) -> Option<Timestamp> {
        let local = self.opening_hours.closes_after(self.time_zone.local_datetime(at))?;
        Some(self.time_zone.instant_at(local).max(at))
    }

    /// By when work taking `preparation` of the store's open time, asked for at `at`, is done
    /// within one opening: `preparation` after `at` when the store is open then and stays open
    /// that long, else `preparation` after the next opening that lasts long enough. `None` when
    /// no opening does (hours shorter than the preparation).
    pub fn ready_after(&self, at: Timestamp, preparation: Duration) -> Option<Timestamp> {
        let mut start = self.next_open_from(at);
        // Today's rest of an opening, then whole openings: every day's is as long, but for a
        // clock change, so a third look settles it.
        for _ in 0..3 {
            let ready = start + preparation;
            match self.closes_after(start) {
                // Round the clock.
                None if self.is_open_at(start) => return Some(ready),
                // An opening the clock skipped (hours within the hour set forward): the next one.
                None => start = self.next_open_from(start),
                Some(close) if ready < close => return Some(ready),
                Some(close) => start = self.next_open_from(close),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        geo::Coordinates,
        ids::{RegionId, StoreId},
        org::StoreKind,
        time::TimeZone,
    };
    use chrono::{NaiveDate, TimeZone as _, Utc};
    use proptest::prelude::*;

    fn hours(raw: &str) -> OpeningHours {
        OpeningHours::parse(raw).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// 2026-12-`day` at `h`:`m` on a wall clock.
    fn local(day: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    fn store(raw_hours: &str, time_zone: TimeZone) -> Store {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Store {
            id: StoreId::new(),
            region_id: RegionId::new(),
            code: "SH001".to_owned(),
            name: "人民广场店".to_owned(),
            address: "南京东路 1 号".to_owned(),
            location: Coordinates::new(31.2323, 121.4691).unwrap(),
            opening_hours: hours(raw_hours),
            time_zone,
            area_m2: 200,
            delivery_radius_m: 3_000,
            phone: None,
            kind: StoreKind::Store,
            status: StoreStatus::Open,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn opening_hours_parse_and_display() {
        for raw in ["08:00-22:00", "18:00-02:00", "00:00-24:00"] {
            assert_eq!(OpeningHours::parse(raw).unwrap().to_string(), raw);
        }
        for raw in ["8:00-22:00", "08:00", "08:60-22:00", "25:00-26:00", "08:00-08:00", "24:00-08:00", "08:00-00:00"] {
            assert!(OpeningHours::parse(raw).is_err(), "{raw}");
        }
        assert!(hours("00:00-24:00").is_round_the_clock());
        assert!(!hours("00:00-23:59").is_round_the_clock() && !hours("00:01-24:00").is_round_the_clock());
    }

    #[test]
    fn opening_hours_cover_midnight() {
        let day = hours("08:00-22:00");
        assert!(day.is_open_at(t(8, 0)) && day.is_open_at(t(21, 59)));
        assert!(!day.is_open_at(t(22, 0)) && !day.is_open_at(t(7, 59)));
        let night = hours("18:00-02:00");
        assert!(night.is_open_at(t(23, 0)) && night.is_open_at(t(1, 59)));
        assert!(!night.is_open_at(t(2, 0)) && !night.is_open_at(t(12, 0)));
        assert!(OpeningHours::ROUND_THE_CLOCK.is_open_at(t(3, 33)));
    }

    #[test]
    fn next_opening_and_closing_on_the_wall_clock() {
        // (hours, asked, next open from it, closing after it)
        let cases = [
            ("08:00-22:00", local(6, 3, 0), local(6, 8, 0), None),
            ("08:00-22:00", local(6, 8, 0), local(6, 8, 0), Some(local(6, 22, 0))),
            ("08:00-22:00", local(6, 21, 59), local(6, 21, 59), Some(local(6, 22, 0))),
            ("08:00-22:00", local(6, 22, 0), local(7, 8, 0), None),
            ("08:00-24:00", local(6, 23, 30), local(6, 23, 30), Some(local(7, 0, 0))),
            ("08:00-24:00", local(7, 0, 0), local(7, 8, 0), None),
            ("18:00-02:00", local(6, 1, 0), local(6, 1, 0), Some(local(6, 2, 0))),
            ("18:00-02:00", local(6, 2, 0), local(6, 18, 0), None),
            ("18:00-02:00", local(6, 20, 0), local(6, 20, 0), Some(local(7, 2, 0))),
            (
                "18:00-02:00",
                local(31, 23, 0),
                local(31, 23, 0),
                Some(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap().and_time(t(2, 0))),
            ),
            ("00:00-24:00", local(6, 3, 33), local(6, 3, 33), None),
        ];
        for (raw, asked, opens, closes) in cases {
            let h = hours(raw);
            assert_eq!(h.next_open_from(asked), opens, "{raw} from {asked}");
            assert_eq!(h.closes_after(asked), closes, "{raw} at {asked}");
        }
        // Seconds count as their minute: 07:59:30 is closed, 21:59:30 open.
        let h = hours("08:00-22:00");
        assert_eq!(h.next_open_from(local(6, 7, 59) + Duration::seconds(30)), local(6, 8, 0));
        assert_eq!(h.closes_after(local(6, 21, 59) + Duration::seconds(30)), Some(local(6, 22, 0)));
    }

    #[test]
    fn a_store_opens_and_closes_on_its_own_clock() {
        // 2026-12-06 19:00 UTC is 2026-12-07 03:00 in Shanghai.
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 19, 0, 0).unwrap();
        let shanghai = store("08:00-22:00", TimeZone::SHANGHAI);
        assert!(!shanghai.is_open_at(at) && !shanghai.is_trading_at(at));
        assert_eq!(shanghai.next_open_from(at), Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap());
        assert_eq!(shanghai.closes_after(at), None);
        let opened = shanghai.next_open_from(at);
        assert_eq!(shanghai.closes_after(opened), Some(Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap()));
        // Urumqi keeps its own clock (UTC+6): 01:00 there, closed too, opening two hours later
        // in UTC than Shanghai.
        let urumqi = store("08:00-22:00", TimeZone::parse("Asia/Urumqi").unwrap());
        assert_eq!(urumqi.next_open_from(at), Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap());
        // A paused store is inside its hours but not trading.
        let paused = Store { status: StoreStatus::Paused, ..store("00:00-24:00", TimeZone::SHANGHAI) };
        assert!(paused.is_open_at(at) && !paused.is_trading_at(at));
    }

    #[test]
    fn ready_within_one_opening() {
        let shanghai = |h: u32, m: u32| TimeZone::SHANGHAI.instant_at(local(6, h, m));
        let tomorrow = |h: u32, m: u32| TimeZone::SHANGHAI.instant_at(local(7, h, m));
        let half_hour = Duration::minutes(30);
        let day = store("08:00-22:00", TimeZone::SHANGHAI);
        assert_eq!(day.ready_after(shanghai(12, 0), half_hour), Some(shanghai(12, 30)), "open: from now");
        assert_eq!(day.ready_after(shanghai(3, 0), half_hour), Some(shanghai(8, 30)), "closed: from opening");
        assert_eq!(day.ready_after(shanghai(7, 50), half_hour), Some(shanghai(8, 30)), "closed time is no work");
        assert_eq!(day.ready_after(shanghai(21, 29), half_hour), Some(shanghai(21, 59)));
        assert_eq!(day.ready_after(shanghai(21, 30), half_hour), Some(tomorrow(8, 30)), "ready at closing is too late");
        assert_eq!(day.ready_after(shanghai(23, 0), half_hour), Some(tomorrow(8, 30)));
        let night = store("18:00-02:00", TimeZone::SHANGHAI);
        assert_eq!(night.ready_after(shanghai(23, 50), half_hour), Some(tomorrow(0, 20)), "across midnight");
        assert_eq!(night.ready_after(shanghai(1, 45), half_hour), Some(shanghai(18, 30)));
        let always = store("00:00-24:00", TimeZone::SHANGHAI);
        assert_eq!(always.ready_after(shanghai(23, 50), half_hour), Some(tomorrow(0, 20)));
        let brief = store("08:00-08:20", TimeZone::SHANGHAI);
        assert_eq!(brief.ready_after(shanghai(7, 0), half_hour), None, "no opening lasts half an hour");
    }

    #[test]
    fn ready_after_an_opening_the_clock_skips() {
        // New York sets its clocks forward from 02:00 to 03:00 on 2027-03-14: a store open
        // 02:00-02:30 does not open that day, so work asked for at 01:30 is done the next day.
        let new_york = TimeZone::parse("America/New_York").unwrap();
        let brief = store("02:00-02:30", new_york);
        let at = Utc.with_ymd_and_hms(2027, 3, 14, 6, 30, 0).unwrap();
        let ready = brief.ready_after(at, Duration::minutes(15)).unwrap();
        assert_eq!(ready, Utc.with_ymd_and_hms(2027, 3, 15, 6, 15, 0).unwrap(), "02:15 EDT on the 15th");
        assert!(brief.is_open_at(ready - Duration::minutes(15)) && brief.is_open_at(ready));
        // Hours reaching past the skipped hour open at 03:00 that day, as the clock then says.
        let longer = store("02:00-04:00", new_york);
        assert_eq!(
            longer.ready_after(at, Duration::minutes(15)),
            Some(Utc.with_ymd_and_hms(2027, 3, 14, 7, 15, 0).unwrap())
        );
    }

    /// Valid hours: any opening and closing minute but round-the-clock's own spelling.
    fn any_hours() -> impl Strategy<Value = OpeningHours> {
        (0u16..1440, 1u16..=1440)
            .prop_filter("opening equals closing", |(open, close)| open != close)
            .prop_map(|(open_min, close_min)| OpeningHours { open_min, close_min })
    }

    /// Any second of a week in December 2026.
    fn any_local() -> impl Strategy<Value = NaiveDateTime> {
        (0i64..7 * 86_400).prop_map(|s| local(1, 0, 0) + Duration::seconds(s))
    }

    /// How long each opening lasts, in minutes.
    fn open_minutes(h: &OpeningHours) -> i64 {
        if h.is_round_the_clock() {
            i64::MAX
        } else {
            (i64::from(h.close_min) - i64::from(h.open_min)).rem_euclid(1440)
        }
    }

    proptest! {
        /// The next opening is the first open minute from the asked time, within a day.
        #[test]
        fn next_open_is_the_first_open_minute(h in any_hours(), asked in any_local()) {
            let opens = h.next_open_from(asked);
            prop_assert!(opens >= asked && opens - asked < Duration::days(1));
            prop_assert!(h.is_open_at(opens.time()));
            if opens > asked {
                prop_assert_eq!(opens.second(), 0);
                let mut minute = asked.with_second(0).unwrap();
                while minute < opens {
                    prop_assert!(!h.is_open_at(minute.time()), "{} is open before {}", minute, opens);
                    minute += Duration::minutes(1);
                }
            }
        }

        /// An open store stays open every minute until its closing, closed then, within a day.
        #[test]
        fn closing_ends_the_opening(h in any_hours(), asked in any_local()) {
            match h.closes_after(asked) {
                None => prop_assert!(h.is_round_the_clock() || !h.is_open_at(asked.time())),
                Some(closes) => {
                    prop_assert!(h.is_open_at(asked.time()) && closes > asked);
                    prop_assert!(closes - asked <= Duration::days(1));
                    prop_assert!(!h.is_open_at(closes.time()));
                    let mut minute = asked.with_second(0).unwrap();
                    while minute < closes {
                        prop_assert!(h.is_open_at(minute.time()), "{} is closed before {}", minute, closes);
                        minute += Duration::minutes(1);
                    }
                }
            }
        }

        /// In a zone without clock changes, work is done within one opening, no sooner than its
        /// preparation after the asked time, and found whenever an opening is long enough.
        #[test]
        fn ready_within_one_opening_of_a_shanghai_store(h in any_hours(), asked in any_local(), prep in 1i64..120) {
            let shop = Store { opening_hours: h, ..store("00:00-24:00", TimeZone::SHANGHAI) };
            let at = TimeZone::SHANGHAI.instant_at(asked);
            let preparation = Duration::minutes(prep);
            match shop.ready_after(at, preparation) {
                None => prop_assert!(open_minutes(&h) <= prep, "{} has room for {} minutes", h, prep),
                Some(ready) => {
                    prop_assert!(ready >= at + preparation && ready - at < Duration::days(2));
                    let started = ready - preparation;
                    prop_assert!(shop.is_open_at(started) && shop.is_open_at(ready));
                    if !h.is_round_the_clock() {
                        prop_assert!(shop.closes_after(started).is_some_and(|close| ready < close));
                    }
                    prop_assert!(started == at || !shop.is_open_at(started - Duration::minutes(1)),
                        "work starts at the asked time or at an opening, not at {}", started);
                }
            }
        }
    }
}
