//! `quanyu bench audience-follow`: how the product's audience index follows the database it was
//! read from. On a scored database: the first count reads every member (timed, with the memory
//! it takes); points given to some members through the use case, then one catch-up with the log
//! of changes (timed); a night's scores rebuild, then the catch-up that follows it (timed); and a
//! check that the caught-up index counts, for a few expressions, what a second instance reading
//! every member again counts. Prints one line per step; exits with an error on any difference.

use std::time::Instant;

use anyhow::{Context, bail};
use quanyu_app::{App, AppConfig, CaughtUp, Ctx, Idempotency};
use quanyu_store::CustomerFilter;

use crate::{
    args::AudienceFollowBenchArgs,
    bench_audience::{process_cpu_ms, rss_kib},
    commands::open_database,
    config::Settings,
};

/// Counted on both indexes at the end: tags, stages, points and days since the last order.
const CHECKED: [&str; 5] = [
    "points >= 1",
    r#"stage = "maturity" and last_order_days <= 30"#,
    r#"stage in (decline, silence) or orders_365d >= 5"#,
    r#"not stage = "churned" and spend_365d >= 50000"#,
    "last_order_days between 31 and 90",
];

pub async fn run(args: AudienceFollowBenchArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.database, None)?;
    let db = open_database(&settings.database_url, true).await?;
    let app = App::new(db.clone(), AppConfig::default());
    let system = Ctx::system();

    let step = Step::start();
    let everyone = app.audience_count(&system, "points >= 0 or not points >= 0").await?;
    step.done("read whole", &format!("members={everyone}"));

    let members = first_members(&app, args.touch).await?;
    for (n, &member) in members.iter().enumerate() {
        let key = format!("bench-follow-{}-{n}", args.night.timestamp());
        let ctx = Ctx { idempotency: Some(Idempotency { key: key.clone(), fingerprint: key }), ..Ctx::system() };
        app.adjust_points(&ctx, member, 10, Some("bench"), &|_| quanyu_app::StoredReply {
            status: 201,
            body: Vec::new(),
        })
        .await?;
    }
    let step = Step::start();
    let caught_up = app.catch_audience_index_up_now().await?;
    step.done("catch up after points", &format!("given={} {caught_up:?}", members.len()));

    let step = Step::start();
    let scored = app.rebuild_scores(args.night).await?;
    step.done("night's scores rebuild", &format!("scored={scored}"));
    let step = Step::start();
    let caught_up = app.catch_audience_index_up_now().await?;
    step.done("catch up after the night", &format!("{caught_up:?}"));
    if !matches!(caught_up, Some(CaughtUp::Reloaded(_))) {
        bail!("the night was not caught up member by member: {caught_up:?}");
    }

    let step = Step::start();
    let fresh = App::new(db.clone(), AppConfig::default());
    fresh.audience_count(&system, "points >= 0").await?;
    step.done("a second instance reads whole", "");
    for expression in CHECKED {
        let (followed, read) =
            (app.audience_count(&system, expression).await?, fresh.audience_count(&system, expression).await?);
        println!("check  {followed:>9} caught up, {read:>9} read whole  {expression}");
        if followed != read {
            bail!("the caught-up index counts {followed}, one read whole {read}: {expression}");
        }
    }
    db.close().await;
    Ok(())
}

/// The first `count` customers by member number.
async fn first_members(app: &App, count: usize) -> anyhow::Result<Vec<quanyu_domain::ids::CustomerId>> {
    let mut members = Vec::with_capacity(count);
    let mut cursor: Option<String> = None;
    while members.len() < count {
        let page = app.list_customers(&Ctx::system(), CustomerFilter::default(), cursor.as_deref(), Some(200)).await?;
        members.extend(page.items.iter().map(|c| c.id).take(count - members.len()));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => break,
        }
    }
    if members.len() < count {
        return Err(anyhow::anyhow!("only {} customers to give points to", members.len())).context("--touch");
    }
    Ok(members)
}

/// One timed step: wall and CPU time from its start.
struct Step {
    started: Instant,
    cpu_ms: f64,
}

impl Step {
    fn start() -> Step {
        Step { started: Instant::now(), cpu_ms: process_cpu_ms() }
    }

    fn done(self, what: &str, detail: &str) {
        let (seconds, cpu) = (self.started.elapsed().as_secs_f64(), (process_cpu_ms() - self.cpu_ms) / 1e3);
        let rss = rss_kib() / 1024;
        println!("{what:<28} {seconds:>8.3} s  (CPU {cpu:>7.3} s)  RSS {rss:>5} MiB  {detail}");
    }
}
