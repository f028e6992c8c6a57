//! The test harness: a router over a fresh database, seeded with a small chain (two regions,
//! three stores, staff at every level), and helpers that send JSON and read JSON back.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use http_body_util::BodyExt as _;
use quanyu_app::{
    App, AppConfig, Ctx, PasswordHasher, RegionDraft, SmsOutbox, StaffDraft, StoreDraft, StoredReply, Written,
};
use quanyu_domain::ids::{RegionId, StoreId};
use quanyu_store::Database;
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const PASSWORD: &str = "correct-horse-1";

pub struct TestApp {
    pub router: Router,
    pub admin: String,
    pub region_manager_n: String,
    pub manager_a: String,
    pub cashier_a: String,
    pub picker_a: String,
    pub region_n: String,
    pub region_s: String,
    pub store_a: String,
    pub store_b: String,
    pub store_c: String,
    pub cashier_b_id: String,
    /// Every SMS the app sent (customers' sign-in codes).
    #[allow(dead_code)] // the mall's tests read it
    pub sms: Arc<SmsOutbox>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

fn no_reply<T>(_: &T) -> StoredReply {
    StoredReply { status: 201, body: Vec::new() }
}

fn fresh<T>(written: Written<T>) -> T {
    match written {
        Written::Fresh(value) => value,
        Written::Replayed(_) => panic!("seeding never replays"),
    }
}

/// Seeds the chain: regions N and S; stores N-A and N-B in N, S-C in S; an HQ admin, a
/// region manager of N, a manager and a cashier of N-A, and cashiers of N-B and S-C.
pub async fn spawn_app(db: Arc<dyn Database>) -> TestApp {
    spawn_app_with(db, |config| config).await
}

/// [`spawn_app`] with the app's configuration changed by `configure` (a shorter booking
/// horizon…) from the tests' default.
pub async fn spawn_app_with(db: Arc<dyn Database>, configure: impl FnOnce(AppConfig) -> AppConfig) -> TestApp {
    let sms = Arc::new(SmsOutbox::default());
    let config = AppConfig { passwords: PasswordHasher::fast_for_tests(), sms: sms.clone(), ..AppConfig::default() };
    let app = App::new(db, configure(config));
    let system = Ctx::system();
    let region = |code: &str, name: &str| RegionDraft { code: code.into(), name: name.into() };
    let region_n = fresh(app.create_region(&system, region("N", "北区"), &no_reply).await.unwrap()).id;
    let region_s = fresh(app.create_region(&system, region("S", "南区"), &no_reply).await.unwrap()).id;
    let store = |code: &str, name: &str, region_id: RegionId, lat: f64| StoreDraft {
        code: code.into(),
        name: name.into(),
        region_id: Some(region_id),
        address: format!("{name} 地址"),
        lat,
        lng: 121.47,
        area_m2: 300,
        // Round the clock, so what is "open now" never depends on when the tests run.
        opening_hours: Some("00:00-24:00".into()),
        ..StoreDraft::default()
    };
    let store_a =
        fresh(app.create_store(&system, store("N-A", "北区 A 店", region_n, 31.23), &no_reply).await.unwrap()).id;
    let store_b =
        fresh(app.create_store(&system, store("N-B", "北区 B 店", region_n, 31.24), &no_reply).await.unwrap()).id;
    let store_c =
        fresh(app.create_store(&system, store("S-C", "南区 C 店", region_s, 31.10), &no_reply).await.unwrap()).id;
    let staff = |username: &str, role: &str, phone: Option<&str>, region: Option<RegionId>, store: Option<StoreId>| {
        StaffDraft {
            username: username.into(),
            display_name: username.into(),
            phone: phone.map(Into::into),
            role: role.into(),
            region_id: region,
            store_id: store,
            password: PASSWORD.into(),
        }
    };
    let seeds = [
        staff("admin", "hq_admin", Some("13900000001"), None, None),
        staff("rm-n", "region_manager", None, Some(region_n), None),
        staff("sm-a", "store_manager", None, None, Some(store_a)),
        staff("cashier-a", "cashier", None, None, Some(store_a)),
        staff("picker-a", "picker", None, None, Some(store_a)),
        staff("cashier-b", "cashier", None, None, Some(store_b)),
        staff("cashier-c", "cashier", None, None, Some(store_c)),
    ];
    let mut cashier_b_id = String::new();
    for draft in seeds {
        let created = fresh(app.create_staff(&system, draft, &no_reply).await.unwrap());
        if created.username == "cashier-b" {
            cashier_b_id = created.id.to_string();
        }
    }
    let router = quanyu_web::router(app, quanyu_web::WebOptions::default());
    let mut test = TestApp {
        router,
        admin: String::new(),
        region_manager_n: String::new(),
        manager_a: String::new(),
        cashier_a: String::new(),
        picker_a: String::new(),
        region_n: region_n.to_string(),
        region_s: region_s.to_string(),
        store_a: store_a.to_string(),
        store_b: store_b.to_string(),
        store_c: store_c.to_string(),
        cashier_b_id,
        sms,
    };
    test.admin = test.login("admin").await;
    test.region_manager_n = test.login("rm-n").await;
    test.manager_a = test.login("sm-a").await;
    test.cashier_a = test.login("cashier-a").await;
    test.picker_a = test.login("picker-a").await;
    test
}

impl TestApp {
    pub async fn login(&self, username: &str) -> String {
        let response =
            self.post_anonymous("/api/v1/auth/login", json!({"login": username, "password": PASSWORD})).await;
        assert_eq!(response.status, StatusCode::OK, "login {username}: {}", response.body);
        response.body["token"].as_str().unwrap().to_owned()
    }

    /// The last sign-in code sent by SMS to `phone`.
    #[allow(dead_code)] // the mall's tests use it
    pub fn last_code(&self, phone: &str) -> String {
        let (_, text) = self.sms.sent().into_iter().rev().find(|(to, _)| to == phone).expect("a code was sent");
        text.chars().filter(char::is_ascii_digit).take(6).collect()
    }

    /// A valid store body in region N with the given code.
    pub fn store_body(&self, code: &str) -> Value {
        json!({
            "code": code,
            "name": format!("北区 {code} 店"),
            "region_id": self.region_n,
            "address": "上海市黄浦区南京东路 1 号",
            "location": {"lat": 31.2304, "lng": 121.4737},
            "area_m2": 500,
        })
    }

    /// Sets store A's hours to open at `opens` and close at `closes` from `now`, on its clock
    /// (Shanghai), so a test sees the same hours around whatever time it runs (past midnight
    /// or not); returns them as written (`HH:MM-HH:MM`).
    #[allow(dead_code)] // the orders' and the mall's tests use it
    pub async fn set_hours_around(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        opens: chrono::Duration,
        closes: chrono::Duration,
    ) -> String {
        use chrono::Timelike as _;
        let hhmm = |from_now: chrono::Duration| {
            let local = (now + from_now).with_timezone(&chrono_tz::Asia::Shanghai);
            format!("{:02}:{:02}", local.hour(), local.minute())
        };
        let close = Some(hhmm(closes)).filter(|c| c != "00:00").unwrap_or_else(|| "24:00".to_owned());
        let hours = format!("{}-{close}", hhmm(opens));
        let path = format!("/api/v1/stores/{}", self.store_a);
        let set = self.request_as(&self.admin, "PATCH", &path, Some(json!({ "opening_hours": hours }))).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        assert_eq!(set.body["time_zone"], "Asia/Shanghai", "the clock the hours are read on");
        hours
    }

    /// Creates a category and a product in it with the given SKUs; returns the product.
    pub async fn create_product(&self, name: &str, skus: Value) -> Value {
        let category = self.post_as(&self.admin, "/api/v1/categories", json!({"name": format!("{name} 类")})).await;
        assert_eq!(category.status, StatusCode::CREATED, "{}", category.body);
        let body = json!({"name": name, "category_id": category.body["id"], "kind": "fresh", "skus": skus});
        let product = self.post_as(&self.admin, "/api/v1/products", body).await;
        assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
        product.body
    }

    /// Receives `quantity` of a new SKU (one product of its own) into store A; returns the SKU id.
    pub async fn stocked_sku(&self, name: &str, sku: Value, quantity: i64) -> String {
        let product = self.create_product(name, json!([sku])).await;
        let sku_id = product["skus"][0]["id"].as_str().unwrap().to_owned();
        let movements = format!("/api/v1/stores/{}/stock/movements", self.store_a);
        let body = json!({"sku_id": sku_id, "kind": "purchase_receipt", "quantity": quantity});
        let receipt = self.post_with_key(&self.manager_a, &movements, &format!("po-{sku_id}"), body).await;
        assert_eq!(receipt.status, StatusCode::CREATED, "{}", receipt.body);
        sku_id
    }

    pub async fn post_anonymous(&self, path: &str, body: Value) -> TestResponse {
        self.send(Request::post(path).header("content-type", "application/json"), Some(body)).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> TestResponse {
        self.request_as(token, "POST", path, Some(body)).await
    }

    pub async fn post_with_key(&self, token: &str, path: &str, key: &str, body: Value) -> TestResponse {
        self.post_with_key_lang(token, path, key, body, "zh-CN").await
    }

    /// [`post_with_key`](Self::post_with_key) asking for answers in `lang`.
    pub async fn post_with_key_lang(
        &self,
        token: &str,
        path: &str,
        key: &str,
        body: Value,
        lang: &str,
    ) -> TestResponse {
        let builder = Request::post(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .header("accept-language", lang);
        self.send(builder, Some(body)).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> TestResponse {
        self.request_as(token, "GET", path, None).await
    }

    pub async fn get_as_lang(&self, token: &str, path: &str, lang: &str) -> TestResponse {
        let builder =
            Request::get(path).header("authorization", format!("Bearer {token}")).header("accept-language", lang);
        self.send(builder, None).await
    }

    pub async fn request_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> TestResponse {
        let mut builder =
            Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        self.send(builder, body).await
    }

    pub async fn request_with_cookie(&self, method: &str, path: &str, cookie: &str) -> TestResponse {
        self.send(Request::builder().method(method).uri(path).header("cookie", cookie), None).await
    }

    pub async fn raw(&self, method: &str, path: &str, token: &str, content_type: &str, body: &str) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path).header("user-agent", "quanyu-tests");
        if !token.is_empty() {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if !content_type.is_empty() {
            builder = builder.header("content-type", content_type);
        }
        self.finish(builder.body(Body::from(body.to_owned())).unwrap()).await
    }

    pub async fn send(&self, builder: axum::http::request::Builder, body: Option<Value>) -> TestResponse {
        let builder = builder.header("user-agent", "quanyu-tests");
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.finish(builder.body(body).unwrap()).await
    }

    async fn finish(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse { status, headers, body, text }
    }
}

/// `body` with `key` set to `value`: a request that differs from another in one field.
pub fn with(body: &Value, key: &str, value: Value) -> Value {
    let mut body = body.clone();
    body[key] = value;
    body
}
