//! Customer events as the analytics SDKs send them (the Segment / RudderStack HTTP spec):
//! `track`, `identify`, `page`, `screen`, `group` and `alias` messages, each with a `messageId`
//! (deduplicated per source), a `userId` and/or an `anonymousId`, a client `timestamp` and JSON
//! `properties`, `traits` and `context`.
//!
//! [`EventMessage::check`] is what every message must satisfy before it is stored; a batch
//! with some bad messages keeps the good ones and reports each bad one by its index
//! ([`EventError`]). JSON payloads travel as text here (the edge has parsed them and checked that
//! they are objects), so this module stays free of a JSON library.
//!
//! Identity stitching: a `userId` names a customer (their id); an `identify` or `alias` that
//! carries both a user and an anonymous id ties the anonymous id to that customer, so events
//! sent before the visitor logged in join the customer's timeline.

use crate::{ids::CustomerId, time::Timestamp};

/// The largest message the spec allows: 32 KB.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// The largest batch the spec allows: 500 KB, and at most this many messages.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
pub const MAX_BATCH_MESSAGES: usize = 2_500;
/// Ids and names longer than this are refused.
pub const MAX_ID_CHARS: usize = 255;
/// How far in the future a client clock may be before the server's time is used instead.
pub const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::hours(24);

named_enum! {
    /// The kinds of message.
    pub enum EventType for "type" {
        Track = "track",
        Identify = "identify",
        Page = "page",
        Screen = "screen",
        Group = "group",
        Alias = "alias",
    }
}

/// One message, as parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    pub kind: EventType,
    pub message_id: String,
    /// The `event` of a track, the `name` of a page or screen, the `groupId` of a group.
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// An alias's `previousId`.
    pub previous_id: Option<String>,
    /// When the client says it happened.
    pub timestamp: Option<Timestamp>,
    /// JSON objects as text: `properties` (track, page, screen), `traits` (identify, group),
    /// `context`.
    pub properties: String,
    pub traits: String,
    pub context: String,
}

/// Why one message was refused: a stable [`code`](Self::code), what was wrong as values (the
/// HTTP edge words it in the caller's language), and in English as `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("messageId must be 1–255 characters")]
    MessageId,
    #[error("{field} must be 1–255 characters")]
    TooLong { field: &'static str },
    #[error("{field} contains a control character")]
    ControlCharacter { field: &'static str },
    #[error("userId or anonymousId is required")]
    MissingIdentity,
    #[error("a track message needs an event name")]
    MissingEvent,
    #[error("a group message needs a groupId")]
    MissingGroupId,
    #[error("an alias needs a previousId and a userId")]
    MissingPreviousId,
    #[error("a message may hold at most 32 KB")]
    TooLarge,
    #[error("{field} must be a string")]
    NotText { field: &'static str },
    #[error("{field} must be an object")]
    NotObject { field: &'static str },
    #[error("a message is a JSON object")]
    NotAMessage,
    #[error("duplicate field `{field}`")]
    DuplicateField { field: &'static str },
    #[error("type is required")]
    MissingType,
    #[error("unknown type {name}")]
    UnknownType { name: String },
    #[error("timestamp must be ISO 8601")]
    BadTimestamp,
}

impl EventError {
    /// A stable snake_case code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MessageId => "invalid_message_id",
            Self::TooLong { .. } | Self::NotText { .. } | Self::NotObject { .. } => "invalid_field",
            Self::ControlCharacter { .. } => "invalid_text",
            Self::MissingIdentity => "missing_identity",
            Self::MissingEvent => "missing_event",
            Self::MissingGroupId => "missing_group_id",
            Self::MissingPreviousId => "missing_previous_id",
            Self::TooLarge => "message_too_large",
            Self::NotAMessage | Self::DuplicateField { .. } => "invalid_message",
            Self::MissingType | Self::UnknownType { .. } => "invalid_type",
            Self::BadTimestamp => "invalid_timestamp",
        }
    }
}

/// Whether an id or name is longer than [`MAX_ID_CHARS`] characters. UTF-8 takes at least a byte
/// per character, so only a text longer in bytes is counted (every message is checked at the
/// edge and again at ingest, several texts each).
fn over_max_id_chars(text: &str) -> bool {
    text.len() > MAX_ID_CHARS && text.chars().count() > MAX_ID_CHARS
}

impl EventMessage {
    /// Checks a message: an id, who it is about, what each kind needs, bounded sizes.
    pub fn check(&self) -> Result<(), EventError> {
        let too_long = |value: &Option<String>| value.as_deref().is_some_and(over_max_id_chars);
        if self.message_id.trim().is_empty() || over_max_id_chars(&self.message_id) {
            return Err(EventError::MessageId);
        }
        for (field, value) in [
            ("userId", &self.user_id),
            ("anonymousId", &self.anonymous_id),
            ("previousId", &self.previous_id),
            ("event", &self.name),
        ] {
            if too_long(value) || value.as_ref().is_some_and(|v| v.trim().is_empty()) {
                return Err(EventError::TooLong { field });
            }
        }
        for (field, value) in [
            ("messageId", Some(&self.message_id)),
            ("userId", self.user_id.as_ref()),
            ("anonymousId", self.anonymous_id.as_ref()),
            ("previousId", self.previous_id.as_ref()),
            ("event", self.name.as_ref()),
        ] {
            if value.is_some_and(|v| crate::text::plain(field, v).is_err()) {
                return Err(EventError::ControlCharacter { field });
            }
        }
        if self.user_id.is_none() && self.anonymous_id.is_none() {
            return Err(EventError::MissingIdentity);
        }
        match self.kind {
            EventType::Track if self.name.is_none() => {
                return Err(EventError::MissingEvent);
            }
            EventType::Group if self.name.is_none() => {
                return Err(EventError::MissingGroupId);
            }
            EventType::Alias if self.previous_id.is_none() || self.user_id.is_none() => {
                return Err(EventError::MissingPreviousId);
            }
            _ => {}
        }
        let size = self.properties.len() + self.traits.len() + self.context.len();
        if size > MAX_MESSAGE_BYTES {
            return Err(EventError::TooLarge);
        }
        Ok(())
    }

    /// The anonymous id this message ties to its user, if any: an identify's or track's
    /// `anonymousId` next to a `userId`, or an alias's `previousId`.
    pub fn stitches(&self) -> Option<&str> {
        self.user_id.as_ref()?;
        match self.kind {
            EventType::Alias => self.previous_id.as_deref(),
            _ => self.anonymous_id.as_deref(),
        }
    }

    /// When it happened: the client's timestamp unless it is further in the future than the
    /// clocks of phones drift, else when it was received.
    pub fn occurred_at(&self, received_at: Timestamp) -> Timestamp {
        self.timestamp.filter(|t| *t <= received_at + MAX_CLOCK_SKEW).unwrap_or(received_at)
    }
}

/// The track event a domain change becomes on its customer's timeline (orders, coupons,
/// membership, stored value, referrals), by the change's kind; `None` for changes that are not
/// about one customer's behaviour.
pub fn domain_event_name(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "order.created" => "Order Placed",
        "order.paid" => "Order Paid",
        "order.refunded" => "Order Refunded",
        "order.cancelled" => "Order Cancelled",
        "coupon.issued" => "Coupon Received",
        "coupon.used" => "Coupon Used",
        "coupon.restored" => "Coupon Restored",
        "customer.created" => "Signed Up",
        "customer.tier_changed" => "Tier Changed",
        "customer.stage_changed" => "Lifecycle Stage Changed",
        "stored_value.topped_up" => "Stored Value Topped Up",
        "referral.recorded" => "Referred",
        "points.adjusted" => "Points Adjusted",
        _ => return None,
    })
}

/// A userId that names a customer: their id.
pub fn customer_of_user_id(user_id: &str) -> Option<CustomerId> {
    user_id.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _, Utc};

    use super::*;

    fn track() -> EventMessage {
        EventMessage {
            kind: EventType::Track,
            message_id: "m-1".into(),
            name: Some("Product Viewed".into()),
            user_id: None,
            anonymous_id: Some("anon-1".into()),
            previous_id: None,
            timestamp: None,
            properties: "{}".into(),
            traits: "{}".into(),
            context: "{}".into(),
        }
    }

    #[test]
    fn messages_need_an_id_an_identity_and_what_their_kind_needs() {
        assert_eq!(track().check(), Ok(()));
        let code = |m: EventMessage| m.check().unwrap_err().code();
        assert_eq!(code(EventMessage { message_id: " ".into(), ..track() }), "invalid_message_id");
        assert_eq!(code(EventMessage { anonymous_id: None, ..track() }), "missing_identity");
        assert_eq!(code(EventMessage { name: None, ..track() }), "missing_event");
        assert_eq!(code(EventMessage { kind: EventType::Alias, ..track() }), "missing_previous_id");
        assert_eq!(
            code(EventMessage { properties: "x".repeat(MAX_MESSAGE_BYTES + 1), ..track() }),
            "message_too_large"
        );
        assert_eq!(code(EventMessage { name: Some("x".repeat(300)), ..track() }), "invalid_field");
        assert_eq!(
            EventMessage { anonymous_id: Some("a\u{0}b".into()), ..track() }.check(),
            Err(EventError::ControlCharacter { field: "anonymousId" })
        );
        assert_eq!(code(EventMessage { message_id: "m\u{0}".into(), ..track() }), "invalid_text");
    }

    #[test]
    fn identify_and_alias_stitch_anonymous_ids_to_users() {
        assert_eq!(track().stitches(), None, "no user yet");
        let identify = EventMessage { kind: EventType::Identify, user_id: Some("u".into()), ..track() };
        assert_eq!(identify.stitches(), Some("anon-1"));
        let alias = EventMessage {
            kind: EventType::Alias,
            user_id: Some("u".into()),
            previous_id: Some("anon-0".into()),
            ..track()
        };
        assert_eq!(alias.stitches(), Some("anon-0"));
    }

    #[test]
    fn clocks_far_in_the_future_are_not_believed() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let past = EventMessage { timestamp: Some(now - Duration::hours(3)), ..track() };
        assert_eq!(past.occurred_at(now), now - Duration::hours(3));
        let future = EventMessage { timestamp: Some(now + Duration::days(3)), ..track() };
        assert_eq!(future.occurred_at(now), now);
        assert!(customer_of_user_id(&CustomerId::new().to_string()).is_some());
        assert!(customer_of_user_id("user-42").is_none());
    }
}
