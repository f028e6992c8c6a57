//! The flash-sale journal's record: every reservation one batch made, encoded compactly, so a
//! batch writes one row (and costs one fsync) whatever the number of its buyers. A new owner of
//! the sale replays the records; a background task turns them into reservation rows.
//!
//! Format (version 2): the version byte; `at` and `expires_at` as microseconds since the epoch
//! (zigzag varints); the number of entries; then per entry the reservation id (16 bytes), the
//! quantity (varint), the buyer — a [`Buyer::Member`], as every staff and mall buyer is, as a
//! `1` byte and the member id's 16 bytes, any other name as a `0` byte and the text — and the
//! buyer's request key as text; a text is a varint length and UTF-8 bytes.
//! Version 1, which records written before still hold, kept every buyer as text and the key
//! scoped to the buyer (`buyer:key`): a member's name twice, 90 bytes an
//! entry of a rush's 130. Decoding checks every length, so a damaged record is an error, never a
//! panic; it borrows the texts from the bytes it reads, and takes a member's name written as
//! text (version 1) to the member ([`Buyer::from_name`]).

use crate::Expected;
use uuid::Uuid;

use super::Buyer;
use crate::{DomainError, DomainResult, ids::CustomerId, time::Timestamp};

/// The version records are written in.
const VERSION: u8 = 2;
/// The version records were written in before members were kept by id.
const VERSION_1: u8 = 1;
/// How a version-2 entry's buyer is kept: as text, or as a member's id.
const BUYER_TEXT: u8 = 0;
const BUYER_MEMBER: u8 = 1;

/// The buyer's own key in a version-1 key, which was scoped to its buyer (`buyer:key`; `None`:
/// not one of theirs). A buyer's `Idempotency-Key` is the buyer's own, so the same key from two
/// buyers is two requests; rows and version 2 keep the buyer and the key apart.
fn buyer_key<'a>(buyer: &str, scoped: &'a str) -> Option<&'a str> {
    scoped.strip_prefix(buyer)?.strip_prefix(':')
}

/// One reservation in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry<'a> {
    pub id: Uuid,
    pub quantity: i64,
    pub buyer: Buyer<'a>,
    /// The request's idempotency key, as the buyer sent it.
    pub key: &'a str,
}

/// The reservations one committed batch made, all at the same instant and with the same hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord<'a> {
    pub at: Timestamp,
    pub expires_at: Timestamp,
    pub entries: Vec<JournalEntry<'a>>,
}

impl<'a> JournalRecord<'a> {
    /// Units the record reserves.
    pub fn units(&self) -> i64 {
        self.entries.iter().map(|e| e.quantity).sum()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(24 + self.entries.iter().map(|e| 37 + e.buyer.text_len() + e.key.len()).sum::<usize>());
        out.push(VERSION);
        put_signed(&mut out, self.at.timestamp_micros());
        put_signed(&mut out, self.expires_at.timestamp_micros());
        put(&mut out, self.entries.len() as u64);
        for entry in &self.entries {
            out.extend_from_slice(entry.id.as_bytes());
            put_signed(&mut out, entry.quantity);
            match entry.buyer {
                Buyer::Member(member) => {
                    out.push(BUYER_MEMBER);
                    out.extend_from_slice(member.as_uuid().as_bytes());
                }
                Buyer::Named(name) => {
                    out.push(BUYER_TEXT);
                    put_text(&mut out, name);
                }
            }
            put_text(&mut out, entry.key);
        }
        out
    }

    pub fn decode(bytes: &'a [u8]) -> DomainResult<JournalRecord<'a>> {
        let mut reader = Reader { bytes };
        let version = reader.byte()?;
        if version != VERSION && version != VERSION_1 {
            return Err(corrupt());
        }
        let at = reader.instant()?;
        let expires_at = reader.instant()?;
        let count = reader.varint()?;
        // Every entry takes at least 19 bytes: never reserve more than the record could hold.
        let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(bytes.len() / 19));
        for _ in 0..count {
            let id = reader.uuid()?;
            let quantity = reader.signed()?;
            let (buyer, key) = if version == VERSION_1 {
                let buyer = reader.text()?;
                (Buyer::from_name(buyer), buyer_key(buyer, reader.text()?).ok_or_else(corrupt)?)
            } else {
                let buyer = match reader.byte()? {
                    BUYER_TEXT => Buyer::from_name(reader.text()?),
                    BUYER_MEMBER => Buyer::Member(CustomerId::from_uuid(reader.uuid()?)),
                    _ => return Err(corrupt()),
                };
                (buyer, reader.text()?)
            };
            entries.push(JournalEntry { id, quantity, buyer, key });
        }
        if !reader.bytes.is_empty() {
            return Err(corrupt());
        }
        Ok(JournalRecord { at, expires_at, entries })
    }
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn corrupt() -> DomainError {
    DomainError::Malformed { field: "flash_journal", expected: Expected::JournalRecord }
}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_signed(out: &mut Vec<u8>, value: i64) {
    put(out, ((value << 1) ^ (value >> 63)) as u64);
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> DomainResult<u8> {
        let (&first, rest) = self.bytes.split_first().ok_or_else(corrupt)?;
        self.bytes = rest;
        Ok(first)
    }

    fn take(&mut self, n: usize) -> DomainResult<&'a [u8]> {
        if n > self.bytes.len() {
            return Err(corrupt());
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    fn varint(&mut self) -> DomainResult<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f).checked_shl(shift).ok_or_else(corrupt)?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(corrupt())
    }

    fn uuid(&mut self) -> DomainResult<Uuid> {
        Ok(Uuid::from_bytes(self.take(16)?.try_into().map_err(|_| corrupt())?))
    }

    fn signed(&mut self) -> DomainResult<i64> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    fn instant(&mut self) -> DomainResult<Timestamp> {
        Timestamp::from_timestamp_micros(self.signed()?).ok_or_else(corrupt)
    }

    fn text(&mut self) -> DomainResult<&'a str> {
        let len = usize::try_from(self.varint()?).map_err(|_| corrupt())?;
        std::str::from_utf8(self.take(len)?).map_err(|_| corrupt())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::flash::member_buyer;

    /// A key as version 1 scoped it to its buyer.
    fn scoped_key(buyer: &str, key: &str) -> String {
        format!("{buyer}:{key}")
    }

    fn instant(micros: i64) -> Timestamp {
        Timestamp::from_timestamp_micros(micros).unwrap()
    }

    /// Entries as owned parts, and instants: a record borrows its texts from them.
    type Parts = (i64, i64, Vec<(u128, i64, String, String)>);

    fn parts() -> impl Strategy<Value = Parts> {
        // Any text, members' names (kept by id) and names that only look like a member's.
        let buyer = prop_oneof![
            ".{0,12}".boxed(),
            any::<u128>().prop_map(|id| member_buyer(CustomerId::from_uuid(Uuid::from_u128(id)))).boxed(),
            any::<u128>().prop_map(|id| format!("customer:{}", Uuid::from_u128(id).simple())).boxed(),
            any::<u128>().prop_map(|id| format!("customer:{}", Uuid::from_u128(id)).to_uppercase()).boxed(),
        ];
        let entry = (any::<u128>(), any::<i64>(), buyer, ".{0,30}");
        // Any instant chrono can hold, to the microsecond.
        let micros = -8_000_000_000_000_000i64..8_000_000_000_000_000;
        (micros.clone(), micros, prop::collection::vec(entry, 0..40))
    }

    fn record((at, expires, entries): &Parts) -> JournalRecord<'_> {
        JournalRecord {
            at: instant(*at),
            expires_at: instant(*expires),
            entries: entries
                .iter()
                .map(|(id, quantity, buyer, key)| JournalEntry {
                    id: Uuid::from_u128(*id),
                    quantity: *quantity,
                    buyer: Buyer::from_name(buyer),
                    key,
                })
                .collect(),
        }
    }

    proptest! {
        #[test]
        fn records_survive_encoding(parts in parts()) {
            let record = record(&parts);
            let bytes = record.encode();
            prop_assert_eq!(JournalRecord::decode(&bytes).unwrap(), record);
        }

        #[test]
        fn any_bytes_decode_or_fail_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = JournalRecord::decode(&bytes);
        }

        #[test]
        fn a_truncated_record_is_refused(parts in parts(), cut in any::<prop::sample::Index>()) {
            let bytes = record(&parts).encode();
            let cut = cut.index(bytes.len());
            prop_assert!(JournalRecord::decode(&bytes[..cut]).is_err());
        }

        #[test]
        fn scoped_keys_give_the_buyers_key_back(buyer in ".{0,12}", key in ".{0,30}") {
            let scoped = scoped_key(&buyer, &key);
            prop_assert_eq!(buyer_key(&buyer, &scoped), Some(key.as_str()));
        }
    }

    #[test]
    fn a_record_is_compact() {
        let at = instant(1_764_000_000_000_000);
        let texts: Vec<(String, String)> = (0..100).map(|n| (format!("1380013{n:04}"), format!("k{n}"))).collect();
        let entries = texts
            .iter()
            .enumerate()
            .map(|(n, (buyer, key))| JournalEntry {
                id: Uuid::from_u128(n as u128),
                quantity: 1,
                buyer: Buyer::Named(buyer),
                key,
            })
            .collect();
        let record = JournalRecord { at, expires_at: at + chrono::Duration::minutes(15), entries };
        let bytes = record.encode();
        // 16-byte id, 1-byte quantity, two length bytes, 11 + ~16 bytes of text.
        assert!(bytes.len() < 100 * 50, "{} bytes", bytes.len());
        assert_eq!(record.units(), 100);
        assert!(JournalRecord::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(JournalRecord::decode(&trailing).is_err(), "trailing bytes are damage too");
        let mut wrong_version = bytes;
        wrong_version[0] = 3;
        assert!(JournalRecord::decode(&wrong_version).is_err());
    }

    #[test]
    fn a_members_entry_keeps_the_member_by_id_and_version_1_still_reads() {
        let at = instant(1_764_000_000_000_000);
        let id = CustomerId::from_uuid(Uuid::from_u128(7));
        let member = member_buyer(id);
        let entry = JournalEntry { id: Uuid::from_u128(1), quantity: 1, buyer: Buyer::Member(id), key: "w1-2" };
        let record = JournalRecord { at, expires_at: at, entries: vec![entry.clone()] };
        let bytes = record.encode();
        // Version, two instants, a count; id, quantity, tag and member id; the key.
        assert_eq!(bytes.len(), 1 + 8 + 8 + 1 + 16 + 1 + 1 + 16 + 1 + 4, "{bytes:?}");
        assert_eq!(JournalRecord::decode(&bytes).unwrap(), record);

        // The same record as version 1 wrote it: the buyer as text, the key scoped to them.
        let mut v1 = vec![VERSION_1];
        put_signed(&mut v1, at.timestamp_micros());
        put_signed(&mut v1, at.timestamp_micros());
        put(&mut v1, 1);
        v1.extend_from_slice(entry.id.as_bytes());
        put_signed(&mut v1, 1);
        put_text(&mut v1, &member);
        put_text(&mut v1, &scoped_key(&member, "w1-2"));
        assert_eq!(JournalRecord::decode(&v1).unwrap(), record);
    }

    #[test]
    fn a_key_scoped_to_another_buyer_is_damage() {
        assert_eq!(buyer_key("ab", "ab:c:d"), Some("c:d"));
        assert_eq!(buyer_key("a", "ab:c"), None);
        assert_eq!(buyer_key("ab", "ab"), None);
        let at = instant(0);
        let mut bytes = vec![VERSION_1];
        put_signed(&mut bytes, 0);
        put_signed(&mut bytes, 0);
        put(&mut bytes, 1);
        bytes.extend_from_slice(&[0; 16]);
        put_signed(&mut bytes, 1);
        for text in ["a", "b:k"] {
            put(&mut bytes, text.len() as u64);
            bytes.extend_from_slice(text.as_bytes());
        }
        assert!(JournalRecord::decode(&bytes).is_err());
        let fine = JournalRecord {
            at,
            expires_at: at,
            entries: vec![JournalEntry { id: Uuid::nil(), quantity: 1, buyer: Buyer::Named("a"), key: "k" }],
        };
        assert_eq!(JournalRecord::decode(&fine.encode()).unwrap(), fine);
    }
}
