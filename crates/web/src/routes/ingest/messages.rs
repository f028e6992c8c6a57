//! Reading Segment messages out of a request body without building a JSON tree: the body is
//! scanned once, each message's fields taken as borrowed slices of it ([`RawValue`]) in that same
//! pass, and `properties`, `traits` and `context` are kept as the JSON text the client sent
//! (checked to be objects), never parsed into values and printed again.
//!
//! A batch's messages are read where they lie, not captured whole and parsed again: a message
//! that is not an object, or names a field twice, is noted as such and the rest of the batch is
//! still read (each message is checked on its own).

use std::fmt;

use crate::ApiError;
use chrono::{DateTime, Utc};
use quanyu_domain::events::{EventError, EventMessage, EventType};
use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use serde_json::value::RawValue;

/// A batch's body: its messages, their fields read in the same pass, the batch's `context`, a
/// slice of the body, and the `writeKey` it may carry.
#[derive(Deserialize)]
pub(super) struct Body<'a> {
    #[serde(borrow, default)]
    pub batch: Option<Vec<Item<'a>>>,
    #[serde(borrow, default)]
    pub context: Option<&'a RawValue>,
    #[serde(rename = "writeKey", borrow, default)]
    pub write_key: Option<&'a RawValue>,
}

/// One message of a batch: its fields, or `None` if it is not a JSON object.
pub(super) struct Item<'a>(pub Option<Fields<'a>>);

/// One message's fields, as slices of the body (a single message's body is read as one, for its
/// `writeKey` too). `null` is read as absent, as for any optional field.
#[derive(Default)]
pub(super) struct Fields<'a> {
    kind: Option<&'a RawValue>,
    message_id: Option<&'a RawValue>,
    event: Option<&'a RawValue>,
    name: Option<&'a RawValue>,
    group_id: Option<&'a RawValue>,
    user_id: Option<&'a RawValue>,
    anonymous_id: Option<&'a RawValue>,
    previous_id: Option<&'a RawValue>,
    timestamp: Option<&'a RawValue>,
    properties: Option<&'a RawValue>,
    traits: Option<&'a RawValue>,
    context: Option<&'a RawValue>,
    pub write_key: Option<&'a RawValue>,
    /// The first field the message names twice: it is refused, as a whole.
    duplicate: Option<&'static str>,
}

impl<'a> Fields<'a> {
    /// The slot of the field named `key` (as sent), its name and its bit among those seen;
    /// `None` for fields Quanyu does not read.
    fn slot(&mut self, key: &str) -> Option<(&mut Option<&'a RawValue>, &'static str, u16)> {
        let (slot, name, at) = match key {
            "type" => (&mut self.kind, "type", 0),
            "messageId" => (&mut self.message_id, "messageId", 1),
            "event" => (&mut self.event, "event", 2),
            "name" => (&mut self.name, "name", 3),
            "groupId" => (&mut self.group_id, "groupId", 4),
            "userId" => (&mut self.user_id, "userId", 5),
            "anonymousId" => (&mut self.anonymous_id, "anonymousId", 6),
            "previousId" => (&mut self.previous_id, "previousId", 7),
            "timestamp" => (&mut self.timestamp, "timestamp", 8),
            "properties" => (&mut self.properties, "properties", 9),
            "traits" => (&mut self.traits, "traits", 10),
            "context" => (&mut self.context, "context", 11),
            "writeKey" => (&mut self.write_key, "writeKey", 12),
            _ => return None,
        };
        Some((slot, name, 1 << at))
    }
}

/// A key of a message, borrowed from the body when it has no escapes.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(key.into()))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(key.to_owned().into()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads a message in place: an object's fields, anything else noted as not a message (and
/// skipped, so the batch is read on).
struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = Item<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item<'de>, A::Error> {
        let mut fields = Fields::default();
        let (mut seen, mut duplicate) = (0_u16, None);
        while let Some(Key(key)) = map.next_key()? {
            match fields.slot(&key) {
                Some((slot, name, bit)) => {
                    *slot = map.next_value()?;
                    if seen & bit != 0 {
                        duplicate.get_or_insert(name);
                    }
                    seen |= bit;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        fields.duplicate = duplicate;
        Ok(Item(Some(fields)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Item<'de>, E> {
        Ok(Item(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Item<'de>, E> {
        Ok(Item(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Item<'de>, E> {
        Ok(Item(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Item<'de>, E> {
        Ok(Item(None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Item<'de>, E> {
        Ok(Item(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Item<'de>, E> {
        Ok(Item(None))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Item<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MessageVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_map(MessageVisitor)? {
            Item(Some(fields)) => Ok(fields),
            Item(None) => Err(de::Error::custom("a message is a JSON object")),
        }
    }
}

/// Reads a body that must be a JSON object into `T`, in one pass; the error says why not.
pub(super) fn body<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ApiError::unreadable_body(&e.to_string()))?;
    if !text.trim_start().starts_with('{') {
        return Err(ApiError::invalid_json_shape("请求体须为 JSON 对象", "the body must be a JSON object"));
    }
    serde_json::from_str(text).map_err(|e| ApiError::invalid_json(&e))
}

/// A string or number field as text; `null` or absent is `None`.
pub(super) fn text(raw: Option<&RawValue>, field: &'static str) -> Result<Option<String>, EventError> {
    let Some(raw) = raw else { return Ok(None) };
    let json = raw.get();
    let invalid = || EventError::NotText { field };
    match json.as_bytes().first() {
        Some(b'"') => {
            // A string without escapes is its text between the quotes (the body was checked
            // to be JSON, which has no raw control characters in strings); decoded otherwise.
            if let Some(plain) = json.strip_prefix('"').and_then(|j| j.strip_suffix('"')).filter(|p| !p.contains('\\'))
            {
                return Ok(Some(plain.to_owned()));
            }
            serde_json::from_str::<String>(json).map(Some).map_err(|_| invalid())
        }
        Some(b'n') => Ok(None),
        Some(b'-' | b'0'..=b'9') => {
            serde_json::from_str::<serde_json::Number>(json).map(|n| Some(n.to_string())).map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}

/// An object field as its JSON text (`{}` when absent or null).
fn object_text(raw: Option<&RawValue>, field: &'static str, default: Option<&RawValue>) -> Result<String, EventError> {
    match raw.or(default).map(RawValue::get) {
        None | Some("null") => Ok("{}".to_owned()),
        Some(json) if json.starts_with('{') => Ok(json.to_owned()),
        Some(_) => Err(EventError::NotObject { field }),
    }
}

/// Reads one message from its fields (`None`: not a JSON object); `kind` is the endpoint's, or
/// `None` in a batch (where `type` says); `context` is the batch's, for messages without their own.
pub(super) fn message(
    fields: Option<Fields<'_>>,
    kind: Option<EventType>,
    context: Option<&RawValue>,
) -> Result<EventMessage, EventError> {
    let fields = fields.ok_or(EventError::NotAMessage)?;
    if let Some(field) = fields.duplicate {
        return Err(EventError::DuplicateField { field });
    }
    let kind = match kind {
        Some(kind) => kind,
        None => {
            let name = text(fields.kind, "type")?.ok_or(EventError::MissingType)?;
            EventType::parse(&name).map_err(|_| EventError::UnknownType { name: name.clone() })?
        }
    };
    let timestamp = match text(fields.timestamp, "timestamp")? {
        Some(raw) => {
            Some(DateTime::parse_from_rfc3339(&raw).map_err(|_| EventError::BadTimestamp)?.with_timezone(&Utc))
        }
        None => None,
    };
    let name = match kind {
        EventType::Track => text(fields.event, "event")?,
        EventType::Page | EventType::Screen => text(fields.name, "name")?,
        EventType::Group => text(fields.group_id, "groupId")?,
        EventType::Identify | EventType::Alias => None,
    };
    let message = EventMessage {
        kind,
        message_id: text(fields.message_id, "messageId")?.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        name,
        user_id: text(fields.user_id, "userId")?,
        anonymous_id: text(fields.anonymous_id, "anonymousId")?,
        previous_id: text(fields.previous_id, "previousId")?,
        timestamp,
        properties: object_text(fields.properties, "properties", None)?,
        traits: object_text(fields.traits, "traits", None)?,
        context: object_text(fields.context, "context", context)?,
    };
    message.check()?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str, kind: Option<EventType>) -> Result<EventMessage, EventError> {
        message(serde_json::from_str::<Item<'_>>(json).unwrap().0, kind, None)
    }

    #[test]
    fn payloads_are_kept_as_sent_and_fields_read_as_text() {
        let m = read(
            r#"{"type":"track","event":"Viewed","messageId":42,"anonymousId":"a\u00e9","properties":{"sku": "MILK"},"extra":[1]}"#,
            None,
        )
        .unwrap();
        assert_eq!((m.kind, m.message_id.as_str(), m.anonymous_id.as_deref()), (EventType::Track, "42", Some("aé")));
        assert_eq!((m.properties.as_str(), m.traits.as_str()), (r#"{"sku": "MILK"}"#, "{}"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let code = |json: &str| read(json, None).unwrap_err().code();
        assert_eq!(code(r#"{"type":"track","event":"x","anonymousId":{"a":1}}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"track","event":"x","anonymousId":"a","properties":[1]}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"buy","anonymousId":"a"}"#), "invalid_type");
        assert_eq!(code(r#"{"event":"x","anonymousId":"a"}"#), "invalid_type");
        assert_eq!(
            code(r#"{"type":"track","event":"x","anonymousId":"a","timestamp":"yesterday"}"#),
            "invalid_timestamp"
        );
        assert_eq!(code("[1]"), "invalid_message");
        assert_eq!(code(r#"{"type":"track","event":"x","anonymousId":"a","event":"y"}"#), "invalid_message");
        assert_eq!(code(r#"{"type":"track","event":null,"anonymousId":"a","event":"y"}"#), "invalid_message");
        assert_eq!(
            read(r#"{"event":"x","userId":null,"anonymousId":"a"}"#, Some(EventType::Track)).unwrap().user_id,
            None
        );
    }

    #[test]
    fn a_batch_context_is_the_default() {
        let batch: Body<'_> = body(
            br#" {"batch":[{"type":"page","anonymousId":"a"},{"type":"page","anonymousId":"a","context":null},
            7,{"type":"page","anonymousId":"a","context":{}}],"context":{"app":{"name":"mall"}},"writeKey":"k"}"#,
        )
        .unwrap();
        let context = batch.context;
        let read: Vec<_> = batch.batch.unwrap().into_iter().map(|item| message(item.0, None, context)).collect();
        assert_eq!(read[0].as_ref().unwrap().context, r#"{"app":{"name":"mall"}}"#);
        assert_eq!(read[1].as_ref().unwrap().context, r#"{"app":{"name":"mall"}}"#, "null is absent");
        assert_eq!(read[2].as_ref().unwrap_err().code(), "invalid_message", "a message is an object");
        assert_eq!(read[3].as_ref().unwrap().context, "{}");
        assert_eq!(text(batch.write_key, "writeKey").unwrap().as_deref(), Some("k"));
        let single: Fields<'_> = body(br#"{"type":"page","writeKey":"w"}"#).unwrap();
        assert_eq!(text(single.write_key, "writeKey").unwrap().as_deref(), Some("w"));
        assert!(body::<Body<'_>>(b"[1]").is_err());
        assert!(body::<Body<'_>>(br#"{"batch":{"type":"page"}}"#).is_err());
        assert!(body::<Body<'_>>(br#"{"batch":[{"type":"page"]}"#).is_err(), "the body is JSON or nothing is read");
    }
}
