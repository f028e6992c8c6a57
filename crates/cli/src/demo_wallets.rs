//! Stored value (储值) for the demo: every tenth member topped up at their home store's till
//! (¥200 to ¥500 in cash, with 10% bonus) through the real top-up use case, so ledgers and
//! balances reconcile and a customer can pay for a mall order with stored value. The banner
//! names one such member's phone.

use quanyu_app::{App, Ctx, TopUpDraft};
use quanyu_domain::{Money, customer::IdentityKind};
use quanyu_store::CustomerFilter;

use crate::{
    demo_members::DemoMember,
    rng::Rng,
    seeding::{fresh, keyed, no_reply},
};

/// Every how many members one is topped up.
const TOP_UP_EVERY: usize = 10;

/// Tops up every tenth member; returns how many were.
pub async fn seed(app: &App, members: &[DemoMember], seed: u64) -> anyhow::Result<usize> {
    let mut rng = Rng::new(seed ^ 0x5A1E_D0C5);
    let mut topped_up = 0;
    for (n, member) in members.iter().enumerate().step_by(TOP_UP_EVERY) {
        let amount = 20_000 + 10_000 * rng.index(4) as i64;
        let draft = TopUpDraft { amount, bonus: amount / 10, method: "cash".to_owned(), reference: None };
        let ctx = keyed(&format!("demo:top-up:{n}"));
        fresh(app.top_up(&ctx, member.id, draft, &no_reply).await?)?;
        topped_up += 1;
    }
    Ok(topped_up)
}

/// The phone and balance of a member with stored value, for the banner.
pub async fn sample(app: &App) -> anyhow::Result<Option<(String, Money)>> {
    let ctx = Ctx::system();
    let page = app.list_customers(&ctx, CustomerFilter::default(), None, Some(100)).await?;
    for customer in page.items {
        let statement = app.stored_value(&ctx, customer.id, None, Some(1)).await?;
        if statement.balance > Money::ZERO {
            let profile = app.customer(&ctx, customer.id).await?;
            let phone = profile.identities.iter().find(|i| i.kind() == IdentityKind::Phone);
            if let Some(phone) = phone {
                return Ok(Some((phone.value().to_owned(), statement.balance)));
            }
        }
    }
    Ok(None)
}
