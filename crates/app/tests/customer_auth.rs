//! Customer sign-in by phone and one-time code, on each backend: codes expire, allow five tries
//! and are resent no sooner than a minute apart; a new phone registers once; sessions end on
//! sign-out; and a signed-in customer orders and pays only for themself.

use std::sync::Arc;

use quanyu_app::{
    App, AppConfig, AppError, CustomerSignInDraft, LineDraft, Origin, PasswordHasher, ShopOrderDraft, Shopper,
    SmsOutbox, TopUpDraft,
};
use quanyu_store::Database;

mod support;

use support::{fresh, keyed, no_reply, shop};

quanyu_store::backend_tests!(
    codes_expire_and_resend_no_sooner_than_a_minute,
    a_phone_registers_once_and_signs_out,
    a_customer_orders_and_pays_only_for_themself,
);

const PHONE: &str = "13812341234";

fn app_with_outbox(db: Arc<dyn Database>) -> (App, Arc<SmsOutbox>) {
    let sms = Arc::new(SmsOutbox::default());
    let config = AppConfig { passwords: PasswordHasher::fast_for_tests(), sms: sms.clone(), ..AppConfig::default() };
    (App::new(db, config), sms)
}

fn last_code(sms: &SmsOutbox) -> String {
    let (_, text) = sms.sent().pop().expect("a message");
    text.chars().filter(char::is_ascii_digit).take(6).collect()
}

fn draft(code: &str) -> CustomerSignInDraft {
    CustomerSignInDraft { phone: PHONE.into(), code: code.into(), ..CustomerSignInDraft::default() }
}

/// Moves the phone's code `by` into the past, as if it had been sent that long ago.
async fn age_code(app: &App, by: chrono::Duration) {
    let mut tx = app.database().write().await.unwrap();
    let mut code = tx.get_login_code(PHONE).await.unwrap().expect("a code");
    code.sent_at -= by;
    code.expires_at -= by;
    tx.put_login_code(&code).await.unwrap();
    tx.commit().await.unwrap();
}

async fn codes_expire_and_resend_no_sooner_than_a_minute(db: Arc<dyn Database>) {
    let (app, sms) = app_with_outbox(db);
    app.send_login_code(PHONE).await.unwrap();
    let first = last_code(&sms);
    let stored = app.database().read().await.unwrap().get_login_code(PHONE).await.unwrap().unwrap();
    assert!(!stored.code_hash.contains(&first), "only a hash of the code is kept");
    assert!(
        matches!(app.send_login_code(PHONE).await, Err(AppError::LoginCodeTooSoon { retry_after_s }) if retry_after_s <= 61)
    );
    assert_eq!(sms.sent().len(), 1);

    // A minute later another may be sent, and it replaces the first.
    age_code(&app, chrono::Duration::seconds(61)).await;
    app.send_login_code(PHONE).await.unwrap();
    let second = last_code(&sms);
    if first != second {
        let old = app.sign_in_customer(draft(&first), &Origin::default()).await;
        assert!(matches!(old, Err(AppError::LoginCodeWrong { attempts_left: 4 })), "{old:?}");
    }

    // Five minutes on, the code has expired.
    age_code(&app, chrono::Duration::minutes(5)).await;
    let expired = app.sign_in_customer(draft(&second), &Origin::default()).await;
    assert!(matches!(expired, Err(AppError::LoginCodeExpired)), "{expired:?}");
}

async fn a_phone_registers_once_and_signs_out(db: Arc<dyn Database>) {
    let (app, sms) = app_with_outbox(db);
    app.send_login_code(PHONE).await.unwrap();
    let first = app.sign_in_customer(draft(&last_code(&sms)), &Origin::default()).await.unwrap();
    assert!(first.registered);
    let shopper = app.authenticate_customer(&first.secret, &Origin::default()).await.unwrap();
    assert_eq!(shopper.customer_id, first.customer.id);
    // Staff authentication does not take a customer's secret.
    assert!(matches!(app.authenticate(&first.secret).await, Err(AppError::Unauthenticated)));

    // A used code is gone, so a new one may be sent at once.
    app.send_login_code(PHONE).await.unwrap();
    let second = app.sign_in_customer(draft(&last_code(&sms)), &Origin::default()).await.unwrap();
    assert!(!second.registered, "the same phone signs in as the same customer");
    assert_eq!(second.customer.id, first.customer.id);

    app.sign_out_customer(&first.secret).await.unwrap();
    assert!(matches!(
        app.authenticate_customer(&first.secret, &Origin::default()).await,
        Err(AppError::Unauthenticated)
    ));
    assert!(app.authenticate_customer(&second.secret, &Origin::default()).await.is_ok(), "other sessions stay");
}

async fn a_customer_orders_and_pays_only_for_themself(db: Arc<dyn Database>) {
    let (app, cashier, store, sku) = shop(db.clone()).await;
    let sms = Arc::new(SmsOutbox::default());
    let app = App::new(db, AppConfig { sms: sms.clone(), ..app.config().clone() });
    let sign_in = |phone: &'static str| {
        let (app, sms) = (app.clone(), sms.clone());
        async move {
            app.send_login_code(phone).await.unwrap();
            let draft = CustomerSignInDraft {
                phone: phone.into(),
                code: last_code(&sms),
                home_store_id: Some(store),
                ..Default::default()
            };
            let signed_in = app.sign_in_customer(draft, &Origin::default()).await.unwrap();
            app.authenticate_customer(&signed_in.secret, &Origin::default()).await.unwrap()
        }
    };
    let alice = sign_in(PHONE).await;
    let bob = sign_in("13900001111").await;
    let keyed_shopper =
        |shopper: &Shopper, key: &str| Shopper { idempotency: keyed(&cashier, key).idempotency, ..shopper.clone() };
    let order = ShopOrderDraft {
        store_id: Some(store),
        channel: "pickup".into(),
        lines: vec![LineDraft { sku_id: Some(sku), quantity: 2 }],
        ..ShopOrderDraft::default()
    };
    let created = fresh(app.shop_create_order(&keyed_shopper(&alice, "o-1"), order.clone(), &no_reply).await.unwrap());
    assert_eq!(created.order.customer_id, Some(alice.customer_id));
    assert_eq!(created.order.created_by, None, "a customer's own order has no staff creator");
    assert!(matches!(app.shop_order(&bob, created.order.id).await, Err(AppError::NotFound { .. })));
    assert!(app.shop_orders(&bob, None, None).await.unwrap().items.is_empty());

    let top_up = TopUpDraft { amount: 10_000, bonus: 0, method: "cash".into(), reference: None };
    fresh(app.top_up(&keyed(&cashier, "t-1"), alice.customer_id, top_up, &no_reply).await.unwrap());
    let due = created.order.total.fen();
    let theirs = app.shop_pay_order(&keyed_shopper(&bob, "p-1"), created.order.id, due, &no_reply).await;
    assert!(matches!(theirs, Err(AppError::NotFound { .. })), "Bob cannot pay (or see) Alice's order");
    let paid =
        fresh(app.shop_pay_order(&keyed_shopper(&alice, "p-1"), created.order.id, due, &no_reply).await.unwrap());
    assert_eq!(paid.order.paid.fen(), due);
    let summary = app.shopper_summary(&alice).await.unwrap();
    assert_eq!(summary.stored_value.fen(), 10_000 - due);
    assert!(app.reconcile_stored_value(&quanyu_app::Ctx::system()).await.unwrap().is_empty());
}
