//! The till (收银台): how a sale is named on its receipt and which sales a till lists.
//!
//! A receipt carries its order's id and a short receipt number, the id's last eight hex digits
//! in capitals. Order ids are UUIDv7, whose tail is random, so eight digits tell a store's
//! recent sales apart while a cashier can still type them from paper.

use chrono::{NaiveTime, TimeZone as _};

use crate::{ids::OrderId, time::TimeZone, time::Timestamp};

/// How many hex digits of the order id a receipt number shows.
pub const RECEIPT_NO_LEN: usize = 8;

/// The receipt number of an order: the last eight hex digits of its id, in capitals.
pub fn receipt_no(id: OrderId) -> String {
    let simple = id.as_uuid().simple().to_string();
    simple[simple.len() - RECEIPT_NO_LEN..].to_ascii_uppercase()
}

/// A receipt number as a cashier typed it (spaces, dashes and case ignored), or `None` when it
/// cannot be one.
pub fn parse_receipt_no(raw: &str) -> Option<String> {
    let cleaned: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (cleaned.len() == RECEIPT_NO_LEN && cleaned.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| cleaned.to_ascii_uppercase())
}

/// A phone number as a receipt prints it: `138****8000`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..3], &chars[chars.len() - 4..]);
    format!("{}{}{}", head.iter().collect::<String>(), "*".repeat(chars.len() - 7), tail.iter().collect::<String>())
}

/// When the store's day that `at` falls in began (local midnight), as an instant.
pub fn day_start(zone: TimeZone, at: Timestamp) -> Timestamp {
    let date = zone.business_day(at, NaiveTime::MIN);
    let midnight = date.and_time(NaiveTime::MIN);
    zone.tz().from_local_datetime(&midnight).earliest().map_or(at, |local| local.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn receipt_numbers_are_the_ids_tail() {
        let id = OrderId::from_uuid(Uuid::parse_str("01938a2b-7c4d-7e5f-8a9b-0c1d2e3f4a5b").unwrap());
        assert_eq!(receipt_no(id), "2E3F4A5B");
        assert_eq!(parse_receipt_no(" 2e3f-4a5b "), Some("2E3F4A5B".into()));
        for bad in ["2E3F4A5", "2E3F4A5BC", "2E3F4A5G", ""] {
            assert_eq!(parse_receipt_no(bad), None, "{bad}");
        }
    }

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("1234"), "****");
    }

    #[test]
    fn the_day_starts_at_local_midnight() {
        // 2026-11-24 17:00 UTC is 01:00 on the 25th in Shanghai: the day began at 16:00 UTC.
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0).unwrap();
        assert_eq!(day_start(TimeZone::SHANGHAI, at), Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 0).unwrap());
    }
}
