//! Narrowing a set of members that may still be a bitmap borrowed from the index.
//!
//! A plan starts from one of the index's own bitmaps (a tag, a value, the universe, a numeric
//! field's existence) and narrows it step by step. Copying that bitmap before its first step
//! and then narrowing the copy in place would pass over it twice; here the first step builds
//! the narrowed bitmap straight from the borrowed one (container by container, each while in
//! cache), and every later step works in place on the bitmap it owns.

use std::borrow::Cow;

use roaring::RoaringBitmap;

/// Members that are either the index's own bitmap (`Borrowed`, not yet narrowed) or a bitmap of
/// the plan's (`Owned`).
pub type Members<'a> = Cow<'a, RoaringBitmap>;

/// `members &= other`.
pub fn intersect(members: &mut Members<'_>, other: &RoaringBitmap) {
    match members {
        Cow::Borrowed(all) => *members = Cow::Owned(*all & other),
        Cow::Owned(owned) => *owned &= other,
    }
}

/// `members -= other`.
pub fn subtract(members: &mut Members<'_>, other: &RoaringBitmap) {
    match members {
        Cow::Borrowed(all) => *members = Cow::Owned(*all - other),
        Cow::Owned(owned) => *owned -= other,
    }
}

/// No member.
pub fn nobody<'a>() -> Members<'a> {
    Cow::Owned(RoaringBitmap::new())
}
