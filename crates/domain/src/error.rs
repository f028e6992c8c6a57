//! The domain's one error type. Every variant has a stable code; the web layer's error table
//! turns it into an HTTP status and a message in the caller's language.

/// A rule of the domain that an input broke. `field` names the input (as the API spells it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains a control character")]
    InvalidText { field: &'static str },
    #[error("{field} is malformed: {expected}")]
    Malformed { field: &'static str, expected: Expected },
    #[error("{field} must be between {min} and {max}")]
    OutOfRange { field: &'static str, min: i64, max: i64 },
    #[error("{field} must not be negative")]
    NegativeMoney { field: &'static str },
    #[error("{field} overflows the money range")]
    MoneyOverflow { field: &'static str },
    #[error("{field} is not a valid coordinate pair")]
    InvalidCoordinates { field: &'static str },
    #[error("{field}: unknown value {value:?}")]
    UnknownValue { field: &'static str, value: String },
    #[error("a {role} cannot have scope {scope}")]
    RoleScopeMismatch { role: &'static str, scope: &'static str },
    #[error("a category cannot be its own ancestor")]
    CategoryCycle,
}

impl DomainError {
    /// The stable, snake_case code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Required { .. } => "required",
            DomainError::TooLong { .. } => "too_long",
            DomainError::InvalidText { .. } => "invalid_text",
            DomainError::Malformed { .. } => "malformed",
            DomainError::OutOfRange { .. } => "out_of_range",
            DomainError::NegativeMoney { .. } => "negative_money",
            DomainError::MoneyOverflow { .. } => "money_overflow",
            DomainError::InvalidCoordinates { .. } => "invalid_coordinates",
            DomainError::UnknownValue { .. } => "unknown_value",
            DomainError::RoleScopeMismatch { .. } => "role_scope_mismatch",
            DomainError::CategoryCycle => "category_cycle",
        }
    }

    /// The input field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::Required { field }
            | DomainError::TooLong { field, .. }
            | DomainError::InvalidText { field }
            | DomainError::Malformed { field, .. }
            | DomainError::OutOfRange { field, .. }
            | DomainError::NegativeMoney { field }
            | DomainError::MoneyOverflow { field }
            | DomainError::InvalidCoordinates { field }
            | DomainError::UnknownValue { field, .. } => Some(field),
            DomainError::RoleScopeMismatch { .. } => Some("scope"),
            DomainError::CategoryCycle => Some("parent_id"),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;

/// `expected_enum!`: [`Expected`]'s variants with their English text, so `ALL` and `en` list
/// every variant.
macro_rules! expected_enum {
    ($($variant:ident = $en:literal),+ $(,)?) => {
        /// What a malformed input should have been: the domain says which, typed; the web layer's
        /// error table says it in the caller's language (zh-CN, en). `en` (and `Display`) is the
        /// English text, for English-only places: logs, the CLI, a CSV import's row report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Expected {
            $($variant),+
        }

        impl Expected {
            pub const ALL: &'static [Expected] = &[$(Expected::$variant),+];

            /// The English text, as the API's `en` message says it.
            pub fn en(self) -> &'static str {
                match self {
                    $(Expected::$variant => $en),+
                }
            }
        }
    };
}

expected_enum! {
    DateLike = "a date like 2026-12-02",
    Id = "an id",
    CustomerOrStaffId = "one of customer_id and staff_id",
    Utf8Csv = "UTF-8 CSV",
    TagCsvHeader = "kind,value or phone",
    TimeInPast = "a time in the past",
    HistoricalOrderTimes = "after joining, completed after it was placed, in the past",
    CompletedAtForChannel = "a time for channels that are fulfilled after payment, none for the others",
    NotSelfOrRecruit = "not oneself or a recruit",
    ReceiptNo = "the 8 characters on the receipt",
    TimeAfterStart = "a time after starts_at",
    TimeInFuture = "a time in the future",
    TagNameWithoutQuotes = "a tag name without quotes",
    BinsFromScoreFiveDown = "thresholds ordered from score 5 down",
    LifecycleRules = "positive days with decline < silence < churned, and at least one order for maturity",
    AnotherGuide = "another guide",
    AnotherLocation = "another location",
    EachSkuOnOneLine = "each SKU on one line",
    PaidTier = "a paid tier",
    NoLinesWithFlashReservation = "none with a flash_reservation",
    NoLinesWithGroupBuy = "none with a group_buy",
    FlashSaleStore = "the flash sale's store",
    GroupBuyStore = "the group buy's store",
    TenderedInCashOnly = "an amount handed over in cash; leave it out for other methods",
    Cursor = "a cursor from next_cursor",
    InviteCode = "an 8-character invite code",
    EachSkuOnce = "each SKU once",
    AfterStart = "after starts_at",
    CodeCharacters = "letters, digits, '-', '_' or '.'",
    MobileNumber = "an 11-digit mobile number",
    OpeningHours = "HH:MM-HH:MM",
    MemberIdOrPhone = "a member id or phone",
    AfterValidFromWithinTenYears = "after valid_from, within ten years",
    ValidityWindowOrDays = "either valid_from and valid_until, or valid_days",
    CouponWithFaceValue = "a coupon with a face value (a percentage coupon needs a cap)",
    AfterStartWithinTenYears = "after starts_at, within ten years",
    HttpUrl = "an http(s) URL",
    WechatId = "8 to 64 letters, digits, - or _",
    MemberCardNo = "6 to 32 letters or digits",
    CalendarDay = "a real calendar day",
    EventName = "an event name of 1–64 characters",
    OnlyWithOrderPaid = "only with Order Paid",
    TableLabel = "one line of at most 16 visible characters",
    PaidPriceAndDays = "both paid_price and paid_days, or neither",
    UniqueLineNo = "a unique line number",
    PromotionTiers = "one or more tiers (with positive thresholds when repeated per each)",
    UniquePromotionId = "a unique promotion id",
    PromotionItems = "one or more SKUs, each with a positive quantity",
    JournalRecord = "a version-1 or version-2 journal record",
    Attributes = "key=value; key=value",
    TrueOrFalse = "true or false",
    Number = "a number",
    BarcodeCharacters = "4 to 32 letters and digits",
    GtinCheckDigit = "a GTIN with a valid check digit",
    YuanAmount = "an amount in yuan such as 12.30",
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.en())
    }
}
