//! The one error table of the API. Every error a client can see has a row here: a stable
//! snake_case code, an HTTP status, and a message in zh-CN and en. Responses look like
//! `{"error":{"code":"…","message":"…","field":"…"}}`.
//!
//! Handlers return `ApiError`; its response carries the error in an extension, and the
//! `localize` middleware renders it in the caller's language, so no handler needs to know it.

use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use quanyu_app::AppError;
use quanyu_domain::{DomainError, Money, events::EventError};
use quanyu_store::UniqueKey;

use crate::lang::Lang;

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<String>,
    zh: String,
    en: String,
    /// Seconds, for 429.
    retry_after: Option<u64>,
    /// What a client can act on beyond the field: where in a text the problem lies, or the
    /// order it is about. Boxed: most errors carry none, and every `Result` carries the size.
    pointer: Option<Box<Pointer>>,
}

/// Where an error points, beyond the field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pointer {
    /// Where in a text input the problem lies (1-based line, and column in characters), for an
    /// editor to mark: audience expressions.
    Position { line: u32, column: u32 },
    /// The order the error is about, for a client to open: the open bill of an occupied table.
    Order(quanyu_domain::ids::OrderId),
    /// When a closed store next opens, for a client to offer instead.
    NextOpen(quanyu_domain::time::Timestamp),
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> ApiError {
        ApiError { status, code, field: None, zh: zh.into(), en: en.into(), retry_after: None, pointer: None }
    }

    fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    fn at_position(mut self, line: usize, column: usize) -> ApiError {
        let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.pointer = Some(Box::new(Pointer::Position { line: small(line), column: small(column) }));
        self
    }

    fn about_order(mut self, order_id: quanyu_domain::ids::OrderId) -> ApiError {
        self.pointer = Some(Box::new(Pointer::Order(order_id)));
        self
    }

    fn next_open_at(mut self, at: quanyu_domain::time::Timestamp) -> ApiError {
        self.pointer = Some(Box::new(Pointer::NextOpen(at)));
        self
    }

    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    pub fn body(&self, lang: Lang) -> serde_json::Value {
        let mut error = serde_json::json!({ "code": self.code, "message": self.message(lang) });
        if let Some(field) = &self.field {
            error["field"] = serde_json::Value::String(field.clone());
        }
        match self.pointer.as_deref() {
            Some(Pointer::Position { line, column }) => {
                error["position"] = serde_json::json!({ "line": line, "column": column });
            }
            Some(Pointer::Order(order_id)) => error["order_id"] = serde_json::Value::String(order_id.to_string()),
            Some(Pointer::NextOpen(at)) => {
                error["next_open_at"] = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
            }
            None => {}
        }
        serde_json::json!({ "error": error })
    }

    fn render(&self, lang: Lang) -> Response {
        let mut response = (self.status, axum::Json(self.body(lang))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    // --- Errors raised by the edge itself -------------------------------------------------

    /// An event message the ingest API refuses (its code is the event check's).
    pub fn bad_event(err: &EventError, field: String) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            err.code(),
            format!("事件格式有误：{}", event_error_text(err, Lang::Zh)),
            format!("Bad event: {err}"),
        )
        .with_field(field)
    }

    /// A body that is not JSON: where, in either language (serde's own words in English only).
    pub fn invalid_json(err: &serde_json::Error) -> ApiError {
        let what = if err.classify() == serde_json::error::Category::Eof { "处意外结束" } else { "有误" };
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("请求体不是合法的 JSON：第 {} 行第 {} 列{what}", err.line(), err.column()),
            format!("The request body is not valid JSON: {err}"),
        )
    }

    /// A JSON body of the wrong shape (`zh` and `en` say which).
    pub fn invalid_json_shape(zh: &str, en: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("请求体不是合法的 JSON：{zh}"),
            format!("The request body is not valid JSON: {en}"),
        )
    }

    /// A body that could not be read (cut off, or not UTF-8 where text is needed).
    pub fn unreadable_body(detail: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "无法读取请求体",
            format!("The request body could not be read: {detail}"),
        )
    }

    pub fn unknown_field(field: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            format!("不认识的字段：{field}"),
            format!("Unknown field: {field}"),
        )
        .with_field(field)
    }

    pub fn missing_field(field: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            format!("缺少必填字段：{field}"),
            format!("Missing required field: {field}"),
        )
        .with_field(field)
    }

    /// `detail` is serde's own words, so in English only.
    pub fn invalid_type(field: &str, detail: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_type",
            format!("字段 {field} 的类型或取值不对"),
            format!("Field {field} has the wrong type or value: {detail}"),
        )
        .with_field(field)
    }

    /// `detail` is the extractor's own words, so in English only.
    pub fn invalid_parameter(field: &str, detail: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("参数 {field} 不正确"),
            format!("Parameter {field} is invalid: {detail}"),
        )
        .with_field(field)
    }

    pub fn unsupported_media_type() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "请求体须为 application/json",
            "The request body must be application/json",
        )
    }

    pub fn payload_too_large() -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "请求体过大", "The request body is too large")
    }

    pub fn route_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "没有这个接口", "No such endpoint")
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "该接口不支持此请求方法",
            "This endpoint does not support this method",
        )
    }

    pub fn invalid_idempotency_key() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "Idempotency-Key 须为 1 到 255 个可见 ASCII 字符",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
        .with_field("Idempotency-Key")
    }

    pub fn too_many_attempts(retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after_secs),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("登录失败次数过多，请 {} 分钟后再试", retry_after_secs.div_ceil(60)),
                format!("Too many failed logins; try again in {} minutes", retry_after_secs.div_ceil(60)),
            )
        }
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请稍后再试",
            "Internal server error; please try again later",
        )
    }
}

impl IntoResponse for ApiError {
    /// A zh-CN rendering carrying the error itself, which [`localize`] re-renders in the
    /// caller's language.
    fn into_response(self) -> Response {
        let mut response = self.render(Lang::Zh);
        response.extensions_mut().insert(self);
        response
    }
}

/// Middleware: renders an [`ApiError`] response in the language the request asked for.
pub async fn localize(request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<ApiError>() {
        Some(error) if lang != Lang::Zh => error.render(lang),
        _ => response,
    }
}

fn entity_zh(entity: &str) -> &'static str {
    match entity {
        "region" => "区域",
        "store" => "门店",
        "staff" => "员工",
        "category" => "类目",
        "brand" => "品牌",
        "product" => "商品",
        "sku" => "SKU",
        "store_sku" => "门店商品设置",
        "api_token" => "API 令牌",
        "order" => "订单",
        "order_line" => "订单行",
        "flash_sale" => "秒杀活动",
        "flash_reservation" => "秒杀预留",
        "stock_document" => "库存单据",
        "stock_policy" => "补货设置",
        "customer" => "顾客",
        "coupon_template" => "优惠券模板",
        _ => "记录",
    }
}

fn entity_en(entity: &str) -> &str {
    match entity {
        "store_sku" => "store SKU setting",
        "api_token" => "API token",
        "order_line" => "order line",
        "flash_sale" => "flash sale",
        "flash_reservation" => "flash-sale reservation",
        "stock_document" => "stock document",
        "stock_policy" => "stock policy",
        "coupon_template" => "coupon template",
        other => other,
    }
}

fn domain_error(err: &DomainError) -> ApiError {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    let (zh, en) = match err {
        DomainError::Required { field } => (format!("{field} 不能为空"), format!("{field} is required")),
        DomainError::TooLong { field, max } => {
            (format!("{field} 不能超过 {max} 个字符"), format!("{field} must be at most {max} characters"))
        }
        DomainError::InvalidText { field } => (
            format!("{field} 含有不允许的控制字符（如 NUL），只可使用普通文字、制表符和换行"),
            format!("{field} contains a control character (such as NUL); only text, tabs and line breaks are allowed"),
        ),
        DomainError::Malformed { field, expected } => (
            format!("{field} 格式不正确，应为：{}", expected_zh(*expected)),
            format!("{field} is malformed; expected {}", expected.en()),
        ),
        DomainError::OutOfRange { field, min, max } => {
            (format!("{field} 须在 {min} 到 {max} 之间"), format!("{field} must be between {min} and {max}"))
        }
        DomainError::NegativeMoney { field } => {
            (format!("{field} 金额不能为负数"), format!("{field} must not be a negative amount"))
        }
        DomainError::MoneyOverflow { field } => {
            (format!("{field} 金额超出允许范围"), format!("{field} is beyond the allowed amount"))
        }
        DomainError::InvalidCoordinates { field } => (
            format!("{field} 坐标无效：纬度须在 -90 到 90，经度须在 -180 到 180"),
            format!("{field} is not a valid coordinate: latitude -90..90, longitude -180..180"),
        ),
        DomainError::UnknownValue { field, value } => {
            (format!("{field} 不支持取值 {value:?}"), format!("{field} does not accept {value:?}"))
        }
        DomainError::RoleScopeMismatch { role, scope } => {
            (format!("角色 {role} 不能使用 {scope} 范围"), format!("Role {role} cannot have scope {scope}"))
        }
        DomainError::CategoryCycle => (
            "类目不能挂在自己或自己的下级之下".to_owned(),
            "A category cannot be placed under itself or its descendants".to_owned(),
        ),
    };
    let mut error = ApiError::new(status, err.code(), zh, en);
    error.field = err.field().map(str::to_owned);
    error
}

/// What a malformed input should have been, in Chinese (`Expected::en` says it in English):
/// every variant has its text here, so a new one cannot reach a caller untranslated.
fn expected_zh(expected: quanyu_domain::Expected) -> &'static str {
    use quanyu_domain::Expected as E;
    match expected {
        E::DateLike => "形如 2026-12-02 的日期",
        E::Id => "有效的 ID",
        E::CustomerOrStaffId => "customer_id 与 staff_id 二者之一",
        E::Utf8Csv => "UTF-8 编码的 CSV",
        E::TagCsvHeader => "表头 kind,value 或 phone",
        E::TimeInPast => "过去的时间",
        E::HistoricalOrderTimes => "晚于入会时间、完成时间晚于下单时间，且均在过去",
        E::CompletedAtForChannel => "付款后才履约的渠道须填时间，其他渠道不填",
        E::NotSelfOrRecruit => "不是自己，也不是自己发展的下级",
        E::ReceiptNo => "小票上的 8 位字符",
        E::TimeAfterStart => "晚于 starts_at 的时间",
        E::TimeInFuture => "将来的时间",
        E::TagNameWithoutQuotes => "不含引号的标签名",
        E::BinsFromScoreFiveDown => "从 5 分起依次递减排列的阈值",
        E::LifecycleRules => "天数为正且 衰退 < 沉默 < 流失，成熟至少需一单",
        E::AnotherGuide => "另一位导购",
        E::AnotherLocation => "另一个地点",
        E::EachSkuOnOneLine => "每个 SKU 只占一行",
        E::PaidTier => "付费会员等级",
        E::NoLinesWithFlashReservation => "带 flash_reservation 时不填",
        E::NoLinesWithGroupBuy => "带 group_buy 时不填",
        E::FlashSaleStore => "秒杀活动所在的门店",
        E::GroupBuyStore => "拼团活动所在的门店",
        E::TenderedInCashOnly => "现金支付时顾客交付的金额；其他支付方式不填",
        E::Cursor => "取自 next_cursor 的游标",
        E::InviteCode => "8 位邀请码",
        E::EachSkuOnce => "每个 SKU 只出现一次",
        E::AfterStart => "晚于 starts_at",
        E::CodeCharacters => "字母、数字、“-”、“_”或“.”",
        E::MobileNumber => "11 位手机号",
        E::OpeningHours => "时:分-时:分（HH:MM-HH:MM）",
        E::MemberIdOrPhone => "会员 ID 或手机号",
        E::AfterValidFromWithinTenYears => "晚于 valid_from，且不超过十年",
        E::ValidityWindowOrDays => "同时填写 valid_from 和 valid_until，或只填 valid_days",
        E::CouponWithFaceValue => "有面值的券（折扣券须设封顶金额）",
        E::AfterStartWithinTenYears => "晚于 starts_at，且不超过十年",
        E::HttpUrl => "http(s) 网址",
        E::WechatId => "8 到 64 位字母、数字、- 或 _",
        E::MemberCardNo => "6 到 32 位字母或数字",
        E::CalendarDay => "真实存在的日期",
        E::EventName => "1–64 个字符的事件名",
        E::OnlyWithOrderPaid => "仅用于 Order Paid（订单支付）事件",
        E::TableLabel => "不超过 16 个可见字符的单行文字",
        E::PaidPriceAndDays => "paid_price 与 paid_days 都填或都不填",
        E::UniqueLineNo => "不重复的行号",
        E::PromotionTiers => "至少一档（按“每满”重复时门槛须为正）",
        E::UniquePromotionId => "不重复的促销 ID",
        E::PromotionItems => "至少一个 SKU，且每个数量为正",
        E::JournalRecord => "第 1 版或第 2 版的流水记录",
        E::Attributes => "形如 键=值; 键=值（key=value; key=value）",
        E::TrueOrFalse => "true 或 false（也可填 是/否）",
        E::Number => "数字",
        E::BarcodeCharacters => "4 到 32 位字母和数字",
        E::GtinCheckDigit => "校验位正确的 GTIN 条码",
        E::YuanAmount => "以元为单位的金额，如 12.30",
    }
}

fn duplicate(key: UniqueKey) -> ApiError {
    let (code, field, zh, en) = match key {
        UniqueKey::RegionCode => {
            ("duplicate_region_code", "code", "区域编码已存在", "A region with this code already exists")
        }
        UniqueKey::StoreCode => {
            ("duplicate_store_code", "code", "门店编码已存在", "A store with this code already exists")
        }
        UniqueKey::Username => ("duplicate_username", "username", "用户名已被使用", "This username is taken"),
        UniqueKey::StaffPhone => {
            ("duplicate_phone", "phone", "手机号已被其他员工使用", "Another staff member has this phone")
        }
        UniqueKey::BrandName => {
            ("duplicate_brand_name", "name", "品牌名称已存在", "A brand with this name already exists")
        }
        UniqueKey::CategoryName => {
            ("duplicate_category_name", "name", "同级类目中已有同名类目", "A sibling category has this name")
        }
        UniqueKey::SkuCode => ("duplicate_sku_code", "code", "SKU 编码已存在", "An SKU with this code already exists"),
        UniqueKey::Barcode => ("duplicate_barcode", "barcode", "条码已被其他 SKU 使用", "Another SKU has this barcode"),
        UniqueKey::TierCode => {
            ("duplicate_tier_code", "code", "会员等级编码已存在", "A membership tier with this code already exists")
        }
        UniqueKey::CustomerIdentity => (
            "identity_taken",
            "value",
            "该标识（手机号、openid 或会员卡号）已属于另一位顾客",
            "This identifier (phone, openid or member card) belongs to another customer",
        ),
        UniqueKey::IdempotencyKey | UniqueKey::StockEntryKey => (
            "idempotency_key_reused",
            "Idempotency-Key",
            "该 Idempotency-Key 已用于另一个请求",
            "This Idempotency-Key was used for a different request",
        ),
        UniqueKey::FlashReservationKey => (
            "duplicate",
            "Idempotency-Key",
            "该秒杀活动已有使用此 Idempotency-Key 的预留",
            "A reservation of this flash sale already has this Idempotency-Key",
        ),
        UniqueKey::OpenTableBill => (
            "table_occupied",
            "table",
            "该桌台已有未结账单：请在该账单上加菜，或先结账或作废",
            "This table already has an open bill: add to it, or settle or void it first",
        ),
        UniqueKey::Other => ("duplicate", "", "记录已存在", "This record already exists"),
    };
    let error = ApiError::new(StatusCode::CONFLICT, code, zh, en);
    if field.is_empty() { error } else { error.with_field(field) }
}

/// Input the edge itself finds invalid (a DTO that names an unknown kind, a missing field).
impl From<quanyu_domain::DomainError> for ApiError {
    fn from(err: quanyu_domain::DomainError) -> ApiError {
        domain_error(&err)
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> ApiError {
        match err {
            AppError::Invalid(domain) => domain_error(&domain),
            AppError::NotFound { entity } => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("找不到该{}", entity_zh(entity)),
                format!("No such {}", entity_en(entity)),
            ),
            AppError::UnknownReference { field, entity } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_reference",
                format!("{field} 指向的{}不存在", entity_zh(entity)),
                format!("{field} refers to a {} that does not exist", entity_en(entity)),
            )
            .with_field(field),
            AppError::Duplicate(key) => duplicate(key),
            AppError::Forbidden => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", "你的角色无权执行此操作", "Your role may not do this")
            }
            AppError::OutOfScope => ApiError::new(
                StatusCode::FORBIDDEN,
                "out_of_scope",
                "这超出了你负责的区域或门店范围",
                "This is outside the regions or stores you are responsible for",
            ),
            AppError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "用户名或密码错误",
                "Wrong login or password",
            ),
            AppError::AccountDisabled => {
                ApiError::new(StatusCode::FORBIDDEN, "account_disabled", "该账号已停用", "This account is disabled")
            }
            AppError::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "请先登录，或登录已过期",
                "Log in first, or the session has expired",
            ),
            AppError::IdempotencyKeyReused => {
                duplicate(UniqueKey::IdempotencyKey).with_status(StatusCode::UNPROCESSABLE_ENTITY)
            }
            AppError::IdempotencyKeyRequired => ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "该操作涉及库存或资金，须带 Idempotency-Key 请求头",
                "This operation moves stock or money and needs an Idempotency-Key header",
            )
            .with_field("Idempotency-Key"),
            AppError::InsufficientStock { sku_id, available, requested } => ApiError::new(
                StatusCode::CONFLICT,
                "insufficient_stock",
                format!("库存不足：可用 {available}，需要 {requested}（SKU {sku_id}）"),
                format!("Not enough stock: {available} available, {requested} requested (SKU {sku_id})"),
            ),
            AppError::SkuUnavailable { sku_id } => ApiError::new(
                StatusCode::CONFLICT,
                "sku_unavailable",
                format!("该商品在此门店或渠道不可售（SKU {sku_id}）"),
                format!("This SKU is not sold in this store or channel (SKU {sku_id})"),
            ),
            AppError::NoStoreCanServe => ApiError::new(
                StatusCode::CONFLICT,
                "no_store_can_serve",
                "附近没有能配送到该地址且有货的门店",
                "No open store nearby delivers to this address with every item in stock",
            ),
            AppError::FlashSale(refusal) => {
                let (code, zh, en) = match refusal {
                    quanyu_app::Refusal::NotActive => {
                        ("flash_sale_not_active", "秒杀未开始或已结束", "The flash sale is not on")
                    }
                    quanyu_app::Refusal::LimitReached => {
                        ("flash_sale_limit_reached", "已达到每人限购数量", "You have reached the per-customer limit")
                    }
                    quanyu_app::Refusal::SoldOut => ("flash_sale_sold_out", "已抢光", "Sold out"),
                    quanyu_app::Refusal::OutOfStock => (
                        "flash_sale_out_of_stock",
                        "门店库存不足，活动名额尚有剩余，可稍后再试",
                        "The store is out of stock for this flash sale; its quota is not used up, try again later",
                    ),
                };
                ApiError::new(StatusCode::CONFLICT, code, zh, en)
            }
            AppError::ReservationNotHeld => ApiError::new(
                StatusCode::CONFLICT,
                "reservation_not_held",
                "该秒杀预留已下单，或已超时释放",
                "The flash-sale reservation was already ordered, or released when its hold ran out",
            ),
            AppError::ReservationBuyerMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reservation_buyer_mismatch",
                "该秒杀预留属于另一位会员：订单的顾客须是预留的会员",
                "The flash-sale reservation is another member's: the order must be for the member who reserved",
            )
            .with_field("customer_id"),
            AppError::OutsideDeliveryRadius { distance_m, radius_m } => ApiError::new(
                StatusCode::CONFLICT,
                "outside_delivery_radius",
                format!("配送地址距门店 {distance_m} 米，超出门店的配送范围（{radius_m} 米）"),
                format!(
                    "The delivery address is {distance_m} m from the store, beyond its delivery radius of {radius_m} m"
                ),
            )
            .with_field("delivery_location"),
            AppError::NotForChannel { field, channel } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_for_channel",
                format!("{}订单不接受 {field}", channel_zh(channel)),
                format!("{} orders do not take {field}", channel.as_str()),
            )
            .with_field(field),
            AppError::TableOccupied { table, order_id } => {
                let Some(order_id) = order_id else { return duplicate(UniqueKey::OpenTableBill) };
                let no = quanyu_domain::till::receipt_no(order_id);
                ApiError::new(
                    StatusCode::CONFLICT,
                    "table_occupied",
                    format!("桌台 {table} 已有未结账单（单号 {no}）：请在该账单上加菜，或先结账或作废"),
                    format!("Table {table} already has an open bill (No. {no}): add to it, or settle or void it first"),
                )
                .with_field("table")
                .about_order(order_id)
            }
            AppError::BeyondBookingHorizon { horizon_days, latest } => {
                let latest = latest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "beyond_booking_horizon",
                    format!("promised_at 最多只能预约 {horizon_days} 天以内（不晚于 {latest}）"),
                    format!("promised_at may be at most {horizon_days} days ahead (no later than {latest})"),
                )
                .with_field("promised_at")
            }
            AppError::OutsideOpeningHours { hours, time_zone, next_open, asked } => {
                let opens = next_open.with_timezone(&time_zone.tz()).format("%Y-%m-%d %H:%M");
                let zone = time_zone.name();
                let (zh, en) = if asked {
                    (
                        format!("门店营业时间为 {hours}（{zone}），所选时间门店未营业；门店下次营业时间为 {opens}"),
                        format!(
                            "The store is open {hours} ({zone}) and closed at the chosen time; it next opens at {opens}"
                        ),
                    )
                } else {
                    (
                        format!("门店营业时间为 {hours}（{zone}），营业时间太短，来不及备货；请选择其他门店"),
                        format!(
                            "The store is open {hours} ({zone}), too short a time to get the order ready; choose another store"
                        ),
                    )
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "outside_opening_hours", zh, en)
                    .with_field("promised_at")
                    .next_open_at(next_open)
            }
            AppError::IdentitiesConflict => ApiError::new(
                StatusCode::CONFLICT,
                "identities_conflict",
                "这些标识分属不同的顾客；如确为同一人，请由店长合并",
                "These identifiers belong to different customers; if they are one person, a manager can merge them",
            )
            .with_field("identities"),
            AppError::CustomerMerge(err) => {
                let (code, zh, en) = match err {
                    quanyu_domain::customer::MergeError::SameCustomer => {
                        ("merge_same_customer", "不能把顾客合并到自己", "A customer cannot be merged into itself")
                    }
                    quanyu_domain::customer::MergeError::AlreadyMerged => (
                        "already_merged",
                        "该顾客档案已被合并到另一位顾客",
                        "This profile was already merged into another",
                    ),
                    quanyu_domain::customer::MergeError::NotMerged => {
                        ("not_merged", "该顾客档案没有被合并", "This profile is not merged into another")
                    }
                    quanyu_domain::customer::MergeError::SurvivorMergedSince => (
                        "survivor_merged_since",
                        "保留的档案之后又被合并到别的顾客，请先撤销那次合并",
                        "The surviving profile has since been merged into another; undo that merge first",
                    ),
                    quanyu_domain::customer::MergeError::UndoOverdraws { ledger } => {
                        let (zh, en) =
                            if ledger == "points" { ("积分", "points") } else { ("储值余额", "stored value") };
                        return ApiError::new(
                            StatusCode::CONFLICT,
                            "unmerge_overdraws",
                            format!("保留的档案已用掉随合并转入的{zh}，撤销会使其为负"),
                            format!(
                                "The surviving profile has spent {en} that came with the merge; undoing it would go below zero"
                            ),
                        );
                    }
                };
                ApiError::new(StatusCode::CONFLICT, code, zh, en)
            }
            AppError::NotAGuide => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_a_guide",
                "该员工不是本店在职的导购",
                "This staff member is not an active guide of the store",
            )
            .with_field("guide_id"),
            AppError::InsufficientPoints { balance, requested } => ApiError::new(
                StatusCode::CONFLICT,
                "insufficient_points",
                format!("积分不足：现有 {balance}，需要 {requested}"),
                format!("Not enough points: {balance} held, {requested} requested"),
            )
            .with_field("points"),
            AppError::CouponIssue(refusal) => {
                use quanyu_domain::marketing::IssueRefusal;
                let (code, zh, en) = match refusal {
                    IssueRefusal::NotActive => {
                        ("coupon_not_active", "该券已暂停或结束发放", "This coupon is paused or no longer issued")
                    }
                    IssueRefusal::Expired => ("coupon_expired", "该券的有效期已过", "This coupon's validity has ended"),
                    IssueRefusal::NotClaimable => {
                        ("coupon_not_claimable", "该券不可自行领取", "This coupon cannot be claimed")
                    }
                    IssueRefusal::BudgetSpent => ("coupon_budget_spent", "该券已发完", "This coupon's budget is spent"),
                    IssueRefusal::LimitReached => (
                        "coupon_limit_reached",
                        "该顾客领取该券已达上限",
                        "The customer already holds as many of this coupon as allowed",
                    ),
                };
                ApiError::new(StatusCode::CONFLICT, code, zh, en)
            }
            AppError::GroupClosed => ApiError::new(
                StatusCode::CONFLICT,
                "group_closed",
                "该拼团已结束或未开始",
                "This group buy is not open",
            )
            .with_field("group_buy"),
            AppError::GroupFull => {
                ApiError::new(StatusCode::CONFLICT, "group_full", "该团已满员", "This group is full")
                    .with_field("group_buy")
            }
            AppError::AlreadyInGroup => ApiError::new(
                StatusCode::CONFLICT,
                "already_in_group",
                "您已在该团中",
                "The customer already holds a seat in this group",
            )
            .with_field("group_buy"),
            AppError::GroupNotFormed => ApiError::new(
                StatusCode::CONFLICT,
                "group_not_formed",
                "该订单所在的团尚未成团，暂不能履约",
                "The order's group has not formed yet; it is fulfilled once it does",
            ),
            AppError::LoginCodeTooSoon { retry_after_s } => ApiError {
                retry_after: Some(retry_after_s.max(1) as u64),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "login_code_too_soon",
                    format!("验证码已发送，请 {retry_after_s} 秒后再获取"),
                    format!("A code was just sent; ask for another in {retry_after_s} s"),
                )
                .with_field("phone")
            },
            AppError::LoginCodeWrong { attempts_left } => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "login_code_wrong",
                format!("验证码不正确，还可尝试 {attempts_left} 次"),
                format!("Wrong code; {attempts_left} attempts left"),
            )
            .with_field("code"),
            AppError::LoginCodeExpired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "login_code_expired",
                "验证码已过期，请重新获取",
                "The code has expired; ask for a new one",
            )
            .with_field("code"),
            AppError::LoginCodeAttemptsUsed => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "login_code_attempts_used",
                "验证码错误次数过多，请重新获取",
                "Too many wrong codes; ask for a new one",
            )
            .with_field("code"),
            AppError::InsufficientStoredValue { balance, requested } => {
                let (balance, requested) =
                    (quanyu_domain::Money::from_fen(balance), quanyu_domain::Money::from_fen(requested));
                ApiError::new(
                    StatusCode::CONFLICT,
                    "insufficient_stored_value",
                    format!("储值余额不足：现有 {balance}，需要 {requested}"),
                    format!("Not enough stored value: {balance} held, {requested} requested"),
                )
                .with_field("amount")
            }
            AppError::Payout(refusal) => {
                use quanyu_domain::referral::PayoutRefusal;
                match refusal {
                    PayoutRefusal::NotEnough { available } => ApiError::new(
                        StatusCode::CONFLICT,
                        "payout_not_enough",
                        format!("可提现佣金不足：现有 {available}"),
                        format!("Not enough commission available: {available}"),
                    ),
                    PayoutRefusal::BelowMinimum { minimum } => ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "payout_below_minimum",
                        format!("单次提现至少 {minimum}"),
                        format!("A payout is at least {minimum}"),
                    ),
                }
                .with_field("amount")
            }
            AppError::CouponUnavailable { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "coupon_unavailable",
                "该券不在此顾客的券包中，或已使用、已作废",
                "This coupon is not in the customer's wallet, or was already used or voided",
            )
            .with_field("coupon_ids"),
            AppError::CouponNotApplicable { reason, .. } => {
                use quanyu_domain::pricing::RejectionReason;
                let (code, zh, en) = match reason {
                    RejectionReason::ThresholdNotMet => (
                        "coupon_threshold_not_met",
                        "未达到该券的使用门槛",
                        "The order does not reach the coupon's threshold",
                    ),
                    RejectionReason::OutOfScope => (
                        "coupon_out_of_scope",
                        "订单中没有该券适用的商品",
                        "No item of the order is in the coupon's scope",
                    ),
                    RejectionReason::NotStackable => (
                        "coupon_not_stackable",
                        "该券不能与已选的券同时使用",
                        "This coupon does not stack with another one chosen",
                    ),
                    RejectionReason::Expired => {
                        ("coupon_not_valid_now", "该券不在有效期内", "This coupon is not valid now")
                    }
                    RejectionReason::WrongChannel => {
                        ("coupon_wrong_channel", "该券不能在此渠道使用", "This coupon is not valid in this channel")
                    }
                    RejectionReason::WrongStore => {
                        ("coupon_wrong_store", "该券不能在此门店使用", "This coupon is not valid in this store")
                    }
                    RejectionReason::NoDiscount => {
                        ("coupon_no_discount", "该券对此订单没有优惠", "This coupon takes nothing off this order")
                    }
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en).with_field("coupon_ids")
            }
            AppError::Expression(err) => {
                let at = err.position();
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    err.code(),
                    format!("人群表达式第 {} 行第 {} 列有误：{}", at.line, at.column, expression_zh(&err)),
                    format!("The audience expression is wrong at line {}, column {}: {err}", at.line, at.column),
                )
                .with_field("expression")
                .at_position(at.line, at.column)
            }
            AppError::TooManyMembers { count, max } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_members",
                format!("选中 {count} 位会员，单次最多导出 {max} 位，请缩小人群"),
                format!("{count} members selected; at most {max} can be exported at once: narrow the audience"),
            )
            .with_field("expression"),
            AppError::StoreNotTrading => ApiError::new(
                StatusCode::CONFLICT,
                "store_not_trading",
                "门店暂停营业或已关闭",
                "The store is paused or closed",
            ),
            AppError::AmountMismatch { expected, given } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "amount_mismatch",
                format!("应付 {}，实付 {}", Money::from_fen(expected), Money::from_fen(given)),
                format!("{} is due, {} was given", Money::from_fen(expected), Money::from_fen(given)),
            )
            .with_field("amount"),
            AppError::TenderedShort { due, tendered } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "tendered_short",
                format!("收款 {} 不足应收 {}", Money::from_fen(tendered), Money::from_fen(due)),
                format!("{} handed over does not cover {} due", Money::from_fen(tendered), Money::from_fen(due)),
            )
            .with_field("tendered"),
            AppError::TenderedTooMuch { due, tendered, max_change } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "tendered_too_much",
                format!(
                    "收款 {} 超出应收 {} 过多：找零最多 {}",
                    Money::from_fen(tendered),
                    Money::from_fen(due),
                    Money::from_fen(max_change)
                ),
                format!(
                    "{} handed over for {} due: the change may be at most {}",
                    Money::from_fen(tendered),
                    Money::from_fen(due),
                    Money::from_fen(max_change)
                ),
            )
            .with_field("tendered"),
            AppError::RefundLines(err) => {
                use quanyu_domain::order::RefundLineError as E;
                let (code, zh, en) = match err {
                    E::Repeated { line_no } => {
                        ("line_repeated", format!("第 {line_no} 行重复出现"), format!("Line {line_no} appears twice"))
                    }
                    E::NothingLeft { line_no } => (
                        "line_fully_refunded",
                        format!("第 {line_no} 行已全部退款，没有可退的数量"),
                        format!("Line {line_no} is already fully refunded"),
                    ),
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en).with_field("lines")
            }
            AppError::IllegalTransition(err) => ApiError::new(
                StatusCode::CONFLICT,
                "illegal_transition",
                format!("订单当前状态（{}）不允许此操作（{}）", status_zh(err.status), event_zh(err.event)),
                format!("The order is {} and cannot {}", err.status.as_str(), err.event.as_str()),
            ),
            AppError::StatusChanged => ApiError::new(
                StatusCode::CONFLICT,
                "concurrent_change",
                "记录刚被其他操作修改，请刷新后重试",
                "It was changed by another request; reload and retry",
            ),
            AppError::IllegalDocumentTransition(err) => ApiError::new(
                StatusCode::CONFLICT,
                "illegal_document_transition",
                format!(
                    "{}当前状态（{}）不允许此操作（{}）",
                    document_kind_zh(err.kind),
                    document_status_zh(err.status),
                    document_event_zh(err.event)
                ),
                format!(
                    "The {} document is {} and cannot {}",
                    err.kind.as_str(),
                    err.status.as_str(),
                    err.event.as_str()
                ),
            ),
            AppError::DocumentLines(err) => document_lines(&err),
            AppError::NothingToCount => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing_to_count",
                "该门店没有库存可盘点，请列出要盘点的商品",
                "The store holds no stock to count; list the SKUs to count",
            )
            .with_field("lines"),
            AppError::Row { row, source } => {
                let inner = ApiError::from(*source);
                ApiError {
                    zh: format!("第 {} 项：{}", row + 1, inner.zh),
                    en: format!("Item {}: {}", row + 1, inner.en),
                    ..inner
                }
            }
            AppError::Store(quanyu_store::StoreError::Unavailable(detail)) => {
                tracing::error!(%detail, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "数据库暂时不可用，请稍后再试",
                    "The database is unavailable; please try again later",
                )
            }
            err @ (AppError::Store(_) | AppError::Internal(_)) => {
                tracing::error!(error = %err, "internal error");
                ApiError::internal()
            }
        }
    }
}

/// Why an event was refused, in `lang`: each message an ingest batch refuses is answered in the
/// caller's language, as any error is.
pub fn event_error_text(err: &EventError, lang: Lang) -> String {
    if lang == Lang::En {
        return err.to_string();
    }
    match err {
        EventError::MessageId => "messageId 须为 1–255 个字符".to_owned(),
        EventError::TooLong { field } => format!("{field} 须为 1–255 个字符"),
        EventError::ControlCharacter { field } => format!("{field} 含有不允许的控制字符（如 NUL）"),
        EventError::MissingIdentity => "须有 userId 或 anonymousId".to_owned(),
        EventError::MissingEvent => "track 消息须有事件名（event）".to_owned(),
        EventError::MissingGroupId => "group 消息须有 groupId".to_owned(),
        EventError::MissingPreviousId => "alias 消息须有 previousId 和 userId".to_owned(),
        EventError::TooLarge => "单条消息最多 32 KB".to_owned(),
        EventError::NotText { field } => format!("{field} 须为字符串"),
        EventError::NotObject { field } => format!("{field} 须为 JSON 对象"),
        EventError::NotAMessage => "消息须为 JSON 对象".to_owned(),
        EventError::DuplicateField { field } => format!("字段 `{field}` 重复"),
        EventError::MissingType => "须有 type".to_owned(),
        EventError::UnknownType { name } => format!("未知的消息类型 {name}"),
        EventError::BadTimestamp => "timestamp 须为 ISO 8601 格式".to_owned(),
    }
}

/// An audience expression's error in Chinese, as its `Display` says it in English.
fn expression_zh(err: &quanyu_audience::ExprError) -> String {
    use quanyu_audience::{Expected, ExprError, FieldKind, Found};
    let found = |found: &Found| match found {
        Found::End => "表达式结尾".to_owned(),
        Found::Text(text) => text.clone(),
    };
    let kind = |kind: &FieldKind| match kind {
        FieldKind::Categorical => "分类",
        FieldKind::Numeric => "数值",
    };
    let expected = |expected: &Expected| match expected {
        Expected::Operand => "标签、字段、NOT 或“(”".to_owned(),
        Expected::AndOrEnd => "AND、OR 或表达式结尾".to_owned(),
        Expected::CloseParen { column } => format!("与第 {column} 列的“(”配对的“)”"),
        Expected::TagNameInCall => "“tag(”之后的标签名".to_owned(),
        Expected::CloseTagCall => "标签名之后的“)”".to_owned(),
        Expected::TagNameAfterHash => "“#”之后的标签名".to_owned(),
        Expected::Operator { field } => format!("“{field}”之后的比较运算符"),
        Expected::ListOpen { field } => format!("“{field} in”之后的“(”"),
        Expected::ListNext => "取值列表中的“,”或“)”".to_owned(),
        Expected::BoundsAnd { field } => format!("“{field}”上下界之间的 AND"),
        Expected::NumberFor { field } => format!("“{field}”的数值"),
        Expected::ValueFor { field } => format!("“{field}”的取值"),
        Expected::Number => "数字".to_owned(),
        Expected::Name => "名称或字符串".to_owned(),
        Expected::OperatorOf(FieldKind::Categorical) => "=、!= 或 in".to_owned(),
        Expected::OperatorOf(FieldKind::Numeric) => "=、!=、<、<=、>、>= 或 between".to_owned(),
    };
    match err {
        ExprError::EmptyExpression { .. } => "表达式为空".to_owned(),
        ExprError::UnexpectedCharacter { found, .. } => format!("无法识别的字符“{found}”"),
        ExprError::UnterminatedString { .. } => "字符串缺少结尾的引号".to_owned(),
        ExprError::InvalidEscape { found, .. } => format!("无效的转义“\\{found}”，只能用 \\\" 和 \\\\"),
        ExprError::NumberOutOfRange { text, .. } => format!("数字 {text} 太大"),
        ExprError::UnexpectedToken { expected: e, found: f, .. } => {
            format!("这里应为{}，实际是{}", expected(e), found(f))
        }
        ExprError::UnknownField { name, .. } => format!("没有字段“{name}”"),
        ExprError::UnknownTag { name, .. } => format!("没有标签“{name}”"),
        ExprError::TypeMismatch { field, kind: k, expected: e, found: f, .. } => {
            format!("{}字段“{field}”需要{}，实际是{}", kind(k), expected(e), found(f))
        }
        ExprError::TooDeep { limit, .. } => format!("嵌套超过 {limit} 层"),
    }
}

fn document_kind_zh(kind: quanyu_domain::documents::DocumentKind) -> &'static str {
    use quanyu_domain::documents::DocumentKind as K;
    match kind {
        K::Purchase => "采购单",
        K::Requisition => "要货单",
        K::Transfer => "调拨单",
        K::Stocktake => "盘点单",
        K::Loss => "报损单",
    }
}

fn document_lines(err: &quanyu_domain::documents::DocumentError) -> ApiError {
    use quanyu_domain::documents::DocumentError as E;
    let (zh, en) = match err {
        E::UnknownLine { line_no } => {
            (format!("单据没有第 {line_no} 行"), format!("The document has no line {line_no}"))
        }
        E::RepeatedLine { line_no } => (format!("第 {line_no} 行重复出现"), format!("Line {line_no} appears twice")),
        E::TooMuch { line_no, what, max, requested } => (
            format!("第 {line_no} 行最多 {max}，给出 {requested}（{what}）"),
            format!("Line {line_no}: at most {max} can be {what}, {requested} given"),
        ),
        E::NotCounted { line_no } => {
            (format!("第 {line_no} 行尚未盘点"), format!("Line {line_no} has not been counted"))
        }
        E::Nothing => ("此操作不会移动任何库存".to_owned(), "Nothing would move".to_owned()),
        E::Invalid(domain) => return domain_error(domain),
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "document_lines", zh, en).with_field("lines")
}

impl ApiError {
    fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    /// The same error, naming the input field as the client spelled it.
    pub fn with_field_name(self, field: &str) -> ApiError {
        self.with_field(field)
    }
}

/// A document's status in Chinese.
fn document_status_zh(status: quanyu_domain::documents::DocumentStatus) -> &'static str {
    use quanyu_domain::documents::DocumentStatus as S;
    match status {
        S::Open => "待收货",
        S::PartiallyReceived => "部分收货",
        S::Counting => "盘点中",
        S::Submitted => "待审批",
        S::Approved => "已审批",
        S::Shipped => "已发货",
        S::Received => "已收货",
        S::Closed => "已结案",
        S::Posted => "已过账",
        S::Rejected => "已驳回",
        S::Cancelled => "已取消",
    }
}

/// A step asked of a document, in Chinese.
fn document_event_zh(event: quanyu_domain::documents::DocumentEvent) -> &'static str {
    use quanyu_domain::documents::DocumentEvent as E;
    match event {
        E::Receive { .. } => "收货",
        E::Close => "结案",
        E::Count => "保存盘点数",
        E::Submit => "提交",
        E::Approve => "审批通过",
        E::Reject => "驳回",
        E::Ship => "发货",
        E::Cancel => "取消",
    }
}

/// An order channel as the console names it in Chinese.
fn channel_zh(channel: quanyu_domain::order::OrderChannel) -> &'static str {
    use quanyu_domain::order::OrderChannel as C;
    match channel {
        C::Delivery => "到家配送",
        C::Pickup => "到店自提",
        C::Pos => "门店收银",
        C::ScanToBuy => "扫码购",
        C::TablePayFirst => "扫码点单（先付）",
        C::TableEatFirst => "扫码点单（后付）",
        C::Appointment => "预约到店",
    }
}

/// An order status as the console names it in Chinese.
fn status_zh(status: quanyu_domain::order::OrderStatus) -> &'static str {
    use quanyu_domain::order::OrderStatus as S;
    match status {
        S::Created => "待支付",
        S::Paid => "已支付",
        S::Picking => "拣货中",
        S::Ready => "待取货",
        S::Dispatched => "配送中",
        S::Completed => "已完成",
        S::Cancelled => "已取消",
        S::PartiallyRefunded => "部分退款",
        S::Refunded => "已退款",
    }
}

/// What was asked of an order, in Chinese.
fn event_zh(event: quanyu_domain::order::OrderEvent) -> &'static str {
    use quanyu_domain::order::OrderEvent as E;
    match event {
        E::Pay => "支付",
        E::StartPicking => "开始拣货",
        E::MarkReady => "备货完成",
        E::Dispatch => "配送出发",
        E::Complete => "完成",
        E::Cancel => "取消",
        E::Refund { .. } => "退款",
        E::AddLines => "加菜",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_and_both_languages_are_filled() {
        let samples: Vec<ApiError> = vec![
            AppError::NotFound { entity: "store" }.into(),
            AppError::Forbidden.into(),
            AppError::OutOfScope.into(),
            AppError::Duplicate(UniqueKey::Barcode).into(),
            AppError::IdempotencyKeyReused.into(),
            AppError::Invalid(DomainError::NegativeMoney { field: "base_price" }).into(),
            AppError::Invalid(DomainError::InvalidText { field: "note" }).into(),
            ApiError::unknown_field("colour"),
            ApiError::too_many_attempts(900),
            AppError::LoginCodeTooSoon { retry_after_s: 42 }.into(),
            AppError::LoginCodeWrong { attempts_left: 3 }.into(),
            AppError::LoginCodeExpired.into(),
            AppError::LoginCodeAttemptsUsed.into(),
            AppError::ReservationBuyerMismatch.into(),
            AppError::OutsideDeliveryRadius { distance_m: 1_067_000, radius_m: 3_000 }.into(),
            AppError::NotForChannel { field: "promised_at", channel: quanyu_domain::order::OrderChannel::Pos }.into(),
            AppError::TableOccupied {
                table: quanyu_domain::table::TableLabel::parse("A3").unwrap(),
                order_id: Some(quanyu_domain::ids::OrderId::new()),
            }
            .into(),
            AppError::Duplicate(UniqueKey::OpenTableBill).into(),
            AppError::BeyondBookingHorizon { horizon_days: 30, latest: chrono::DateTime::UNIX_EPOCH }.into(),
            AppError::OutsideOpeningHours {
                hours: quanyu_domain::org::OpeningHours::parse("08:00-22:00").unwrap(),
                time_zone: quanyu_domain::time::TimeZone::SHANGHAI,
                next_open: chrono::DateTime::UNIX_EPOCH,
                asked: true,
            }
            .into(),
            AppError::TenderedTooMuch { due: 670, tendered: 9_000_000, max_change: 1_000_000 }.into(),
            AppError::RefundLines(quanyu_domain::order::RefundLineError::Repeated { line_no: 1 }).into(),
            AppError::RefundLines(quanyu_domain::order::RefundLineError::NothingLeft { line_no: 1 }).into(),
        ];
        for error in samples {
            assert!(error.code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", error.code);
            assert!(!error.zh.is_empty() && !error.en.is_empty());
            assert_ne!(error.zh, error.en);
        }
    }

    #[test]
    fn every_expected_text_is_said_in_both_languages() {
        use quanyu_domain::Expected;
        let mut zh_seen = std::collections::HashSet::new();
        let mut en_seen = std::collections::HashSet::new();
        for &expected in Expected::ALL {
            let (zh, en) = (expected_zh(expected), expected.en());
            assert!(!zh.is_empty() && !en.is_empty(), "{expected:?}");
            assert_ne!(zh, en, "{expected:?}");
            assert!(!zh.is_ascii(), "{expected:?} is not said in Chinese: {zh}");
            assert!(zh_seen.insert(zh), "{expected:?} repeats another's Chinese: {zh}");
            assert!(en_seen.insert(en), "{expected:?} repeats another's English: {en}");
        }
        let malformed = ApiError::from(DomainError::Malformed { field: "buyer", expected: Expected::MemberIdOrPhone });
        assert_eq!(malformed.body(Lang::Zh)["error"]["message"], "buyer 格式不正确，应为：会员 ID 或手机号");
        assert_eq!(malformed.body(Lang::En)["error"]["message"], "buyer is malformed; expected a member id or phone");
    }

    #[test]
    fn an_illegal_transition_is_said_in_chinese_words() {
        use quanyu_domain::order::{OrderEvent, OrderStatus};
        let events = [
            OrderEvent::Pay,
            OrderEvent::StartPicking,
            OrderEvent::MarkReady,
            OrderEvent::Dispatch,
            OrderEvent::Complete,
            OrderEvent::Cancel,
            OrderEvent::Refund { all_lines: true },
            OrderEvent::AddLines,
        ];
        for &status in OrderStatus::ALL {
            for event in events {
                let error = ApiError::from(AppError::IllegalTransition(quanyu_domain::order::IllegalTransition {
                    channel: quanyu_domain::order::OrderChannel::TableEatFirst,
                    status,
                    event,
                }));
                let zh = error.body(Lang::Zh)["error"]["message"].as_str().unwrap().to_owned();
                assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "English in the Chinese: {zh}");
            }
        }
    }

    #[test]
    fn an_illegal_document_step_is_said_in_chinese_words() {
        use quanyu_domain::documents::{DocumentEvent, DocumentKind, DocumentStatus, IllegalDocumentTransition};
        let events = [
            DocumentEvent::Receive { complete: true },
            DocumentEvent::Close,
            DocumentEvent::Count,
            DocumentEvent::Submit,
            DocumentEvent::Approve,
            DocumentEvent::Reject,
            DocumentEvent::Ship,
            DocumentEvent::Cancel,
        ];
        for &kind in DocumentKind::ALL {
            for &status in DocumentStatus::ALL {
                for event in events {
                    let error = ApiError::from(AppError::IllegalDocumentTransition(IllegalDocumentTransition {
                        kind,
                        status,
                        event,
                    }));
                    let zh = error.body(Lang::Zh)["error"]["message"].as_str().unwrap().to_owned();
                    assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "English in the Chinese: {zh}");
                }
            }
        }
    }

    #[test]
    fn a_field_a_channel_does_not_take_names_the_channel_in_chinese() {
        use quanyu_domain::order::OrderChannel;
        for &channel in OrderChannel::ALL {
            let error = ApiError::from(AppError::NotForChannel { field: "table", channel });
            let zh = error.body(Lang::Zh)["error"]["message"].as_str().unwrap().to_owned();
            assert!(zh.ends_with("订单不接受 table"), "{zh}");
            assert!(!zh.trim_end_matches("table").chars().any(|c| c.is_ascii_alphabetic()), "English in: {zh}");
        }
        let pos = ApiError::from(AppError::NotForChannel { field: "promised_at", channel: OrderChannel::Pos });
        assert_eq!(pos.body(Lang::Zh)["error"]["message"], "门店收银订单不接受 promised_at");
        assert_eq!(pos.body(Lang::En)["error"]["message"], "pos orders do not take promised_at");
    }

    #[test]
    fn outside_opening_hours_names_the_hours_and_the_next_opening_on_the_stores_clock() {
        let error = ApiError::from(AppError::OutsideOpeningHours {
            hours: quanyu_domain::org::OpeningHours::parse("08:00-22:00").unwrap(),
            time_zone: quanyu_domain::time::TimeZone::SHANGHAI,
            // 08:00 in Shanghai.
            next_open: "2026-12-07T00:00:00Z".parse().unwrap(),
            asked: true,
        });
        assert_eq!((error.status, error.field.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("promised_at")));
        let zh = error.body(Lang::Zh);
        assert_eq!(
            zh["error"]["message"],
            "门店营业时间为 08:00-22:00（Asia/Shanghai），所选时间门店未营业；门店下次营业时间为 2026-12-07 08:00"
        );
        assert_eq!(zh["error"]["next_open_at"], "2026-12-07T00:00:00Z");
        assert_eq!(
            error.body(Lang::En)["error"]["message"],
            "The store is open 08:00-22:00 (Asia/Shanghai) and closed at the chosen time; it next opens at 2026-12-07 08:00"
        );
    }

    #[test]
    fn domain_errors_keep_their_field() {
        let error = ApiError::from(AppError::Invalid(DomainError::NegativeMoney { field: "base_price" }));
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.code, "negative_money");
        assert_eq!(error.field.as_deref(), Some("base_price"));
        assert_eq!(error.body(Lang::En)["error"]["message"], "base_price must not be a negative amount");
        let error = ApiError::from(AppError::Invalid(DomainError::InvalidText { field: "note" }));
        assert_eq!(
            (error.status, error.code, error.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_text", Some("note"))
        );
    }
}
