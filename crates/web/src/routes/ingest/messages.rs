//! Reading Segment messages out of a request body without building a JSON tree: the body is
//! scanned once into borrowed slices ([`RawValue`]), each message's fields are read from its
//! slice, and `properties`, `traits` and `context` are kept as the JSON text the client sent
//! (checked to be objects), never parsed into values and printed again.

use chrono::{DateTime, Utc};
use quanyu_domain::events::{EventError, EventMessage, EventType};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A batch's body: its messages and `context`, each a slice of the body, and the `writeKey` it
/// may carry (a single message's body is read as a [`Body`] too, for its `writeKey`).
#[derive(Deserialize)]
pub(super) struct Body<'a> {
    #[serde(borrow, default)]
    pub batch: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    pub context: Option<&'a RawValue>,
    #[serde(rename = "writeKey", borrow, default)]
    pub write_key: Option<&'a RawValue>,
}

/// The `writeKey` of a single message's body.
#[derive(Deserialize)]
pub(super) struct KeyOnly<'a> {
    #[serde(rename = "writeKey", borrow, default)]
    pub write_key: Option<&'a RawValue>,
}

/// One message's fields, as slices of the body.
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(rename = "messageId", borrow, default)]
    message_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(rename = "groupId", borrow, default)]
    group_id: Option<&'a RawValue>,
    #[serde(rename = "userId", borrow, default)]
    user_id: Option<&'a RawValue>,
    #[serde(rename = "anonymousId", borrow, default)]
    anonymous_id: Option<&'a RawValue>,
    #[serde(rename = "previousId", borrow, default)]
    previous_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    properties: Option<&'a RawValue>,
    #[serde(borrow, default)]
    traits: Option<&'a RawValue>,
    #[serde(borrow, default)]
    context: Option<&'a RawValue>,
}

/// Reads a body that must be a JSON object into `T`, in one pass; the error says why not.
pub(super) fn body<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    if !text.trim_start().starts_with('{') {
        return Err("the body must be a JSON object".to_owned());
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// A string or number field as text; `null` or absent is `None`.
pub(super) fn text(raw: Option<&RawValue>, field: &str) -> Result<Option<String>, EventError> {
    let Some(raw) = raw else { return Ok(None) };
    let json = raw.get();
    let invalid = || EventError::new("invalid_field", format!("{field} must be a string"));
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
fn object_text(raw: Option<&RawValue>, field: &str, default: Option<&RawValue>) -> Result<String, EventError> {
    match raw.or(default).map(RawValue::get) {
        None | Some("null") => Ok("{}".to_owned()),
        Some(json) if json.starts_with('{') => Ok(json.to_owned()),
        Some(_) => Err(EventError::new("invalid_field", format!("{field} must be an object"))),
    }
}

/// Reads one message; `kind` is the endpoint's, or `None` in a batch (where `type` says);
/// `context` is the batch's, for messages without their own.
pub(super) fn message(
    raw: &RawValue,
    kind: Option<EventType>,
    context: Option<&RawValue>,
) -> Result<EventMessage, EventError> {
    let invalid = || EventError::new("invalid_message", "a message is a JSON object");
    if !raw.get().starts_with('{') {
        return Err(invalid());
    }
    let fields: Fields<'_> =
        serde_json::from_str(raw.get()).map_err(|e| EventError::new("invalid_message", e.to_string()))?;
    let kind = match kind {
        Some(kind) => kind,
        None => {
            let name = text(fields.kind, "type")?.ok_or_else(|| EventError::new("invalid_type", "type is required"))?;
            EventType::parse(&name).map_err(|_| EventError::new("invalid_type", format!("unknown type {name}")))?
        }
    };
    let timestamp = match text(fields.timestamp, "timestamp")? {
        Some(raw) => Some(
            DateTime::parse_from_rfc3339(&raw)
                .map_err(|_| EventError::new("invalid_timestamp", "timestamp must be ISO 8601"))?
                .with_timezone(&Utc),
        ),
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
        message(serde_json::from_str(json).unwrap(), kind, None)
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
        let code = |json: &str| read(json, None).unwrap_err().code;
        assert_eq!(code(r#"{"type":"track","event":"x","anonymousId":{"a":1}}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"track","event":"x","anonymousId":"a","properties":[1]}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"buy","anonymousId":"a"}"#), "invalid_type");
        assert_eq!(code(r#"{"event":"x","anonymousId":"a"}"#), "invalid_type");
        assert_eq!(
            code(r#"{"type":"track","event":"x","anonymousId":"a","timestamp":"yesterday"}"#),
            "invalid_timestamp"
        );
        assert_eq!(message(serde_json::from_str("[1]").unwrap(), None, None).unwrap_err().code, "invalid_message");
        assert_eq!(
            read(r#"{"event":"x","userId":null,"anonymousId":"a"}"#, Some(EventType::Track)).unwrap().user_id,
            None
        );
    }

    #[test]
    fn a_batch_context_is_the_default() {
        let context: &RawValue = serde_json::from_str(r#"{"app":{"name":"mall"}}"#).unwrap();
        let raw: &RawValue = serde_json::from_str(r#"{"type":"page","anonymousId":"a"}"#).unwrap();
        assert_eq!(message(raw, None, Some(context)).unwrap().context, r#"{"app":{"name":"mall"}}"#);
        let batch: Body<'_> = body(br#" {"batch":[{"type":"page"}],"writeKey":"k"}"#).unwrap();
        assert_eq!(batch.batch.map(|b| b.len()), Some(1));
        assert_eq!(text(batch.write_key, "writeKey").unwrap().as_deref(), Some("k"));
        assert!(body::<Body<'_>>(b"[1]").is_err());
        assert!(body::<Body<'_>>(br#"{"batch":{"type":"page"}}"#).is_err());
    }
}
