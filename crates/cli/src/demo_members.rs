//! Members for the demo chain: three tiers (普通会员, 银卡, 金卡), five members per store with
//! their home store and the store's guide, and some points, so the customer pages, the points
//! ledger and audience counts have something to show.

use std::collections::HashMap;

use quanyu_app::{App, Ctx, CustomerDraft, TierDraft};
use quanyu_domain::{ids::StaffId, org::Role};
use quanyu_store::{StaffFilter, StoreFilter};

use crate::{
    rng::Rng,
    seeding::{fresh, keyed, no_reply},
};

const MEMBERS_PER_STORE: usize = 5;
const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"];

pub async fn seed(app: &App, seed: u64) -> anyhow::Result<()> {
    let system = Ctx::system();
    let tiers = [
        ("member", "普通会员", 0, 10_000, false),
        ("silver", "银卡", 50_000, 12_000, false),
        ("gold", "金卡", 200_000, 15_000, true),
    ];
    for (code, name, threshold, bp, free_delivery) in tiers {
        let draft = TierDraft {
            code: code.into(),
            name: name.into(),
            spend_threshold: threshold,
            points_multiplier_bp: Some(bp),
            free_delivery,
        };
        app.create_tier(&system, draft, &no_reply).await?;
    }

    let mut guides: HashMap<String, StaffId> = HashMap::new();
    let mut cursor = None;
    loop {
        let filter = StaffFilter { role: Some(Role::Guide), ..StaffFilter::default() };
        let page = app.list_staff(&system, filter, cursor.as_deref(), Some(500)).await?;
        guides.extend(page.items.into_iter().map(|s| (s.username, s.id)));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => break,
        }
    }

    let mut rng = Rng::new(seed ^ 0x0C05_70E5);
    let mut n = 0;
    let mut cursor = None;
    loop {
        let page = app.list_stores(&system, StoreFilter::default(), cursor.as_deref(), Some(500)).await?;
        for store in page.items.iter().filter(|s| s.kind == quanyu_domain::org::StoreKind::Store) {
            let guide = guides.get(&format!("guide-{}", store.code.to_lowercase())).copied();
            for _ in 0..MEMBERS_PER_STORE {
                n += 1;
                let title = if rng.chance(0.5) { "女士" } else { "先生" };
                let draft = CustomerDraft {
                    identities: vec![("phone".into(), format!("139{n:08}"))],
                    display_name: Some(format!("{}{title}", rng.pick(&SURNAMES))),
                    home_store_id: Some(store.id),
                    guide_id: guide,
                    ..CustomerDraft::default()
                };
                let member = fresh(app.register_customer(&system, draft, &no_reply).await?)?;
                let points = rng.range(0, 30) * 100;
                if points > 0 {
                    let key = format!("demo:points:{n}");
                    app.adjust_points(&keyed(&key), member.customer.id, points, Some("开卡礼"), &no_reply).await?;
                }
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(()),
        }
    }
}
