//! The shell every face shares: home, login, language switch, assets, redirects to login.

use std::sync::Arc;

use axum::http::{Request, StatusCode, header};
use quanyu_store::Database;

use crate::support::spawn_app;

quanyu_store::backend_tests!(
    home_and_login_render,
    pages_send_strangers_to_the_login_page,
    signed_in_staff_land_on_their_face,
    the_language_switch_is_remembered,
    assets_are_served_with_types_and_etags,
);

async fn home_and_login_render(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let home = app.send(Request::get("/"), None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(home.text.contains("管理后台") && home.text.contains("/pos"), "{}", home.text);
    let login = app.send(Request::get("/login?next=/admin").header("accept-language", "en"), None).await;
    assert!(login.text.contains("Staff login") && login.text.contains(r#"data-next="&#x2f;admin""#), "{}", login.text);
    // An offsite `next` is dropped.
    let login = app.send(Request::get("/login?next=//evil.example"), None).await;
    assert!(login.text.contains(r#"data-next="&#x2f;""#), "{}", login.text);
}

async fn pages_send_strangers_to_the_login_page(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    for page in ["/admin", "/pos", "/guide"] {
        let response = app.send(Request::get(page), None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{page}");
        let location = response.headers[header::LOCATION].to_str().unwrap();
        assert_eq!(location, format!("/login?next={page}"), "{page}");
    }
    let stale = app.request_with_cookie("GET", "/admin", "quanyu_session=not-a-session").await;
    assert_eq!(stale.status, StatusCode::SEE_OTHER);
}

async fn signed_in_staff_land_on_their_face(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let admin = format!("quanyu_session={}", app.admin);
    let cashier = format!("quanyu_session={}", app.cashier_a);
    let home = app.request_with_cookie("GET", "/", &admin).await;
    assert_eq!((home.status, home.headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/admin"));
    let home = app.request_with_cookie("GET", "/", &cashier).await;
    assert_eq!(home.headers[header::LOCATION].to_str().unwrap(), "/pos");
    let page = app.request_with_cookie("GET", "/admin", &admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("admin") && page.text.contains("总部管理员"), "{}", page.text);
}

async fn the_language_switch_is_remembered(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let switch = app.send(Request::get("/lang/en?next=/login"), None).await;
    assert_eq!(switch.status, StatusCode::SEE_OTHER);
    assert_eq!(switch.headers[header::LOCATION].to_str().unwrap(), "/login");
    let cookie = switch.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("quanyu_lang=en;"), "{cookie}");
    let page = app.send(Request::get("/login").header("cookie", "quanyu_lang=en"), None).await;
    assert!(page.text.contains("<html lang=\"en\">"));
    // The cookie wins over the browser's preference, both ways.
    let page =
        app.send(Request::get("/login").header("cookie", "quanyu_lang=zh").header("accept-language", "en"), None).await;
    assert!(page.text.contains("<html lang=\"zh-CN\">"));
    let offsite = app.send(Request::get("/lang/en?next=https://evil.example"), None).await;
    assert_eq!(offsite.headers[header::LOCATION].to_str().unwrap(), "/");
}

async fn assets_are_served_with_types_and_etags(db: Arc<dyn Database>) {
    let app = spawn_app(db).await;
    let css = app.send(Request::get("/assets/app.css"), None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    let etag = css.headers[header::ETAG].to_str().unwrap().to_owned();
    let again = app.send(Request::get("/assets/app.css").header("if-none-match", &etag), None).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let js = app.send(Request::get("/assets/app.js"), None).await;
    assert_eq!(js.headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(app.send(Request::get("/assets/nope.js"), None).await.status, StatusCode::NOT_FOUND);
}
