//! Flash sales (秒杀): what happens to a reservation after the rush. Its order line is priced by
//! the price engine, with the flash price as the line's activity price (step 1).
//!
//! A reservation holds stock (reserved), one unit of the sale's quota per unit and the buyer's
//! count towards the per-customer limit. Within the sale's hold time the buyer turns it into an
//! order, which takes over the held stock; otherwise it is released and everything it held goes
//! back, so unpaid reservations never starve the sale. An order placed from a reservation and
//! cancelled unpaid releases the reservation the same way.
//!
//! The rush itself: [`book`] is the owner's in-memory view of one sale (who holds what, which
//! request keys were used) and decides a batch of requests; [`journal`] is the compact record
//! of one committed batch, the only row a batch writes for its buyers.

pub mod book;
pub mod journal;

use crate::Expected;
use crate::{DomainError, DomainResult, ids::CustomerId, text::Phone};

/// How a member is named as a flash sale's buyer, whoever reserves for them (the mall's shopper
/// themselves, or staff naming them by id or phone): the per-customer limit counts per buyer,
/// so one member has exactly one buyer name.
const MEMBER_BUYER: &str = "customer:";

/// The buyer name of a member: one allocation of its exact size, as it is made for every
/// request of a rush.
pub fn member_buyer(customer: CustomerId) -> String {
    let mut name = String::with_capacity(MEMBER_BUYER.len() + uuid::fmt::Hyphenated::LENGTH);
    name.push_str(MEMBER_BUYER);
    name.push_str(customer.as_uuid().hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()));
    name
}

/// Whom a staff request names as the buyer (`buyer`: "a member id or phone"), parsed: a member
/// id in any case or UUID form, or a mobile number (`+86` and spacing allowed). Anything else
/// is refused, so a buyer name is always a member's and one member cannot be counted twice
/// under two spellings. A phone still has to be looked up to its member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedBuyer {
    Member(CustomerId),
    Phone(Phone),
}

impl NamedBuyer {
    pub fn parse(raw: &str) -> DomainResult<NamedBuyer> {
        let raw = raw.trim();
        if let Ok(id) = uuid::Uuid::try_parse(raw) {
            return Ok(NamedBuyer::Member(CustomerId::from_uuid(id)));
        }
        Phone::parse(raw)
            .map(NamedBuyer::Phone)
            .map_err(|_| DomainError::Malformed { field: "buyer", expected: Expected::MemberIdOrPhone })
    }
}

/// The member a buyer name is ([`member_buyer`]'s inverse); `None` for any other name.
pub fn buyer_member(buyer: &str) -> Option<CustomerId> {
    buyer.strip_prefix(MEMBER_BUYER)?.parse().ok()
}

/// A buyer as the rush keeps them: a member by id — every staff and mall buyer is one — or,
/// for reservations made before that, a name. The book counts the limit per `Buyer` and the
/// journal keeps a member as 16 bytes, so a rush never writes, parses or hashes a member's
/// 45-byte name; only reservation rows and answers spell it out ([`Buyer::name`]).
///
/// Made from a name with [`Buyer::from_name`], which takes a member's exact name to the member:
/// a member is one buyer whether a record kept them by id or by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buyer<'a> {
    Member(CustomerId),
    /// Not a member's name (see [`Buyer::from_name`]).
    Named(&'a str),
}

impl<'a> From<&'a str> for Buyer<'a> {
    fn from(name: &'a str) -> Buyer<'a> {
        Buyer::from_name(name)
    }
}

impl<'a> Buyer<'a> {
    /// The buyer a name is: a member if it is exactly [`member_buyer`]'s name for them (so that
    /// [`name`](Self::name) gives the same text back), else the name itself.
    pub fn from_name(name: &'a str) -> Buyer<'a> {
        let member = buyer_member(name).filter(|member| {
            name.len() == MEMBER_BUYER.len() + uuid::fmt::Hyphenated::LENGTH
                && name.ends_with(&*member.as_uuid().hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()))
        });
        member.map_or(Buyer::Named(name), Buyer::Member)
    }

    /// The buyer's name, as reservation rows keep it.
    pub fn name(self) -> std::borrow::Cow<'a, str> {
        match self {
            Buyer::Member(member) => member_buyer(member).into(),
            Buyer::Named(name) => name.into(),
        }
    }

    /// The bytes of text the buyer takes where names are kept as text (none for a member).
    pub fn text_len(self) -> usize {
        match self {
            Buyer::Member(_) => 0,
            Buyer::Named(name) => name.len(),
        }
    }
}

/// A [`Buyer`] of one's own, as reservation rows, buyer counts and answers keep one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuyerBuf {
    Member(CustomerId),
    /// Not a member's name (see [`Buyer::from_name`]).
    Named(String),
}

impl BuyerBuf {
    /// The buyer a name is ([`Buyer::from_name`]).
    pub fn from_name(name: String) -> BuyerBuf {
        match Buyer::from_name(&name) {
            Buyer::Member(member) => BuyerBuf::Member(member),
            Buyer::Named(_) => BuyerBuf::Named(name),
        }
    }

    pub fn as_buyer(&self) -> Buyer<'_> {
        match self {
            BuyerBuf::Member(member) => Buyer::Member(*member),
            BuyerBuf::Named(name) => Buyer::Named(name),
        }
    }

    /// The buyer's name ([`Buyer::name`]).
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        self.as_buyer().name()
    }

    /// The member this buyer is, if a member.
    pub fn member(&self) -> Option<CustomerId> {
        match self {
            BuyerBuf::Member(member) => Some(*member),
            BuyerBuf::Named(_) => None,
        }
    }
}

impl From<Buyer<'_>> for BuyerBuf {
    fn from(buyer: Buyer<'_>) -> BuyerBuf {
        match buyer {
            Buyer::Member(member) => BuyerBuf::Member(member),
            Buyer::Named(name) => BuyerBuf::Named(name.to_owned()),
        }
    }
}

named_enum! {
    /// Where a reservation stands.
    pub enum HoldStatus for "status" {
        /// Stock, quota and the buyer's count are held.
        Held = "held",
        /// Turned into an order, which now holds the stock.
        Ordered = "ordered",
        /// Given back: it expired, or its order was cancelled unpaid.
        Released = "released",
    }
}

/// Why one buyer's request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Before the sale's start or after its end.
    NotActive,
    /// The buyer would hold more than the per-customer limit.
    LimitReached,
    /// Not enough of the quota is left.
    SoldOut,
    /// The quota has units left, but the store's stock does not: units may come back (stock
    /// received, holds released), unlike a sold-out quota.
    OutOfStock,
}

impl Refusal {
    /// Every refusal, for what documents them (a route's refusal codes) to be checked against.
    pub const ALL: [Refusal; 4] = [Refusal::NotActive, Refusal::LimitReached, Refusal::SoldOut, Refusal::OutOfStock];
}

#[cfg(test)]
mod buyer_tests {
    use super::*;

    #[test]
    fn a_member_has_one_buyer_name() {
        let member = CustomerId::new();
        let name = member_buyer(member);
        assert_eq!(name, format!("customer:{}", member.as_uuid().hyphenated()));
        assert_eq!(buyer_member(&name), Some(member));
        assert_eq!(buyer_member("13800019934"), None);
        assert_eq!(buyer_member("customer:not-a-uuid"), None);
    }

    #[test]
    fn only_a_members_exact_name_is_the_member() {
        let member = CustomerId::new();
        let name = member_buyer(member);
        assert_eq!(Buyer::from_name(&name), Buyer::Member(member));
        assert_eq!(Buyer::from_name(&name).name(), name);
        for other in [
            name.to_uppercase(),
            format!("customer:{}", member.as_uuid().simple()),
            format!("{name} "),
            "13800019934".to_owned(),
        ] {
            assert_eq!(Buyer::from_name(&other), Buyer::Named(&other));
            assert_eq!(Buyer::from_name(&other).name(), other);
            assert_eq!(BuyerBuf::from_name(other.clone()), BuyerBuf::Named(other.clone()));
        }
        let owned = BuyerBuf::from_name(name.clone());
        assert_eq!((owned.member(), owned.name()), (Some(member), name.as_str().into()));
        assert_eq!(BuyerBuf::from(owned.as_buyer()), owned);
    }

    #[test]
    fn a_buyer_is_named_by_member_id_or_phone_only() {
        let member = CustomerId::from_uuid(uuid::Uuid::from_u128(0x0193ccce_b880_7089_ab0c_6c757c6fd842));
        for spelling in [
            "0193ccce-b880-7089-ab0c-6c757c6fd842",
            "0193CCCE-B880-7089-AB0C-6C757C6FD842",
            " 0193ccceb8807089ab0c6c757c6fd842 ",
            "{0193ccce-b880-7089-ab0c-6c757c6fd842}",
        ] {
            assert_eq!(NamedBuyer::parse(spelling), Ok(NamedBuyer::Member(member)), "{spelling}");
        }
        let phone = Phone::parse("13800019934").unwrap();
        for spelling in ["13800019934", "+86 13800019934", "138-0001-9934"] {
            assert_eq!(NamedBuyer::parse(spelling), Ok(NamedBuyer::Phone(phone.clone())), "{spelling}");
        }
        let malformed = DomainError::Malformed { field: "buyer", expected: Expected::MemberIdOrPhone };
        for spelling in
            ["", "null", "+86null", "a\u{0}b", "customer:0193ccce-b880-7089-ab0c-6c757c6fd842", "1380001993"]
        {
            assert_eq!(NamedBuyer::parse(spelling), Err(malformed.clone()), "{spelling:?}");
        }
    }
}
