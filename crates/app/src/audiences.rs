//! Use cases of audiences (人群圈选): how many members a segment expression selects, while the
//! growth team types it.
//!
//! The members' attributes are loaded from the database into an [`AudienceIndex`] (bitmaps over
//! the customers' dense ordinals), cut by ordinal range into [`Shards`] (one per core by default,
//! [`AppConfig::audience_shards`](crate::AppConfig)) and kept per instance. It follows the
//! database through the log of audience changes, written by triggers whatever changed a member's
//! tier, home store (or that store's region or code), points, scores or tags, in this instance
//! or another. Before a count, at most every [`CATCH_UP_EVERY`] (at once after a change made
//! here), and on every tick of the sweeper, the index reads the log and reloads just the members
//! it names, in place; a catch-up too big to wait for (a night's rescoring) goes on in the
//! background, and one too big to reload member by member reads every member again in the
//! background, the old index counting meanwhile. Nothing in it is relative to today: it keeps
//! the day of a member's last order, and `last_order_days` is rewritten against today before
//! each count. Every [`INDEX_TTL`] it is still read whole again in the background, a safety net
//! for a change made behind the application's back. Counting is then bitmap algebra on every
//! shard at once, the counts summed, members concatenated in ordinal order, lookalike weights
//! summed over the shards. Fields: `tier`, `home_store` and `region` (codes), `points`,
//! `spend_365d` (分 paid less refunded in the last year), `orders_365d`, the RFM scores `r`, `f`,
//! `m` (1–5), the lifecycle `stage` (introduction, growth, maturity, decline, silence, churned)
//! and `last_order_days`; and every defined tag (`#投诉`; one defined in another instance and
//! carried by nobody is looked up when first named).
//!
//! Staff below HQ count only within their scope: their region's or store's members.

use std::{
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use quanyu_audience::{AudienceIndex, Expr, FieldKind, RoaringBitmap, Schema, Shards};
use quanyu_domain::{authz::Permission, customer::Customer, org::Scope, time::Timestamp};
use quanyu_store::{AudienceCursor, AudienceRow};

use crate::{App, AppError, AppResult, Ctx, change::Change, lifecycle::day, write::now};

/// How long the loaded index serves before it is read whole again (in the background), a safety
/// net: the log of changes keeps it current meanwhile.
pub const INDEX_TTL: Duration = Duration::from_secs(24 * 3600);
/// How often, at most, a count reads the log of changes first (at once after a change made in
/// this instance).
pub const CATCH_UP_EVERY: Duration = Duration::from_secs(1);
/// How long the log of changes is kept: far longer than any index goes without reading it.
pub const AUDIENCE_CHANGES_KEPT: chrono::TimeDelta = chrono::TimeDelta::days(2);
/// How an index catches up with the log of changes.
const CATCH_UP: CatchUp = CatchUp {
    most: 100_000,
    inline: 20_000,
    chunk: 10_000,
    // A day short of what the log keeps, so no change the index missed has been pruned.
    trusted_for: Duration::from_secs(24 * 3600),
};

/// Reloading a changed member costs about six times what reading one costs when every member is
/// read (`bench/audience/follow.sh`): a catch-up reloads up to one member in eight.
const RELOAD_SHARE: u64 = 8;

/// The bounds of catching an index up with the log of changes.
#[derive(Debug, Clone, Copy)]
struct CatchUp {
    /// The most changed members one catch-up reloads, or one in [`RELOAD_SHARE`] of the
    /// members if that is more; past it the index is read whole again.
    most: u32,
    /// The most changed members a count waits to see reloaded; a bigger catch-up runs in the
    /// background.
    inline: usize,
    /// Members reloaded per read of the database and per hold of the index.
    chunk: usize,
    /// How long after its cursor was taken an index may still catch up from the log; one not
    /// caught up for longer is read whole again before it counts.
    trusted_for: Duration,
}

/// The index's field holding the day of a member's last order (days since 1970-01-01, UTC, as
/// scores count days), which expressions name as `last_order_days`, days before today.
const LAST_ORDER_DAY: &str = "last_order_day";

/// The longest expression accepted.
pub const MAX_EXPRESSION: usize = 4_000;
/// The most members one lookalike search returns.
pub const MAX_LOOKALIKE: usize = 10_000;
/// The most members one export returns.
pub const MAX_EXPORT: u64 = 100_000;
const PAGE: u32 = 5_000;
/// The most shards the audience index is cut into by default: past this, a shard's thread costs
/// more to start than its share of a count saves.
pub const MAX_AUDIENCE_SHARDS: usize = 8;

/// One audience shard per available core, at most [`MAX_AUDIENCE_SHARDS`].
pub fn default_audience_shards() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(MAX_AUDIENCE_SHARDS))
}

/// The fields an expression may name, and their kinds.
pub fn audience_schema() -> Schema {
    Schema::default()
        .with_field("tier", FieldKind::Categorical)
        .with_field("home_store", FieldKind::Categorical)
        .with_field("region", FieldKind::Categorical)
        .with_field("points", FieldKind::Numeric)
        .with_field("spend_365d", FieldKind::Numeric)
        .with_field("orders_365d", FieldKind::Numeric)
        .with_field("r", FieldKind::Numeric)
        .with_field("f", FieldKind::Numeric)
        .with_field("m", FieldKind::Numeric)
        .with_field("stage", FieldKind::Categorical)
        .with_field("rfm_segment", FieldKind::Categorical)
        .with_field("last_order_days", FieldKind::Numeric)
}

impl App {
    /// How many members `expression` selects (within the caller's scope).
    pub async fn audience_count(&self, ctx: &Ctx, expression: &str) -> AppResult<u64> {
        ctx.require(Permission::ReadCustomers)?;
        let (state, segment) = self.segment(ctx, expression).await?;
        off_the_workers(move || state.read().count(&segment)).await
    }

    /// The members `expression` selects, by ordinal, each with their first phone, for a
    /// campaign or a hand-off to guides (HQ). At most [`MAX_EXPORT`] rows.
    pub async fn audience_members(&self, ctx: &Ctx, expression: &str) -> AppResult<Vec<(Customer, Option<String>)>> {
        ctx.require(Permission::ExportCustomers)?;
        let members = self.select(ctx, expression).await?;
        if members.len() > MAX_EXPORT {
            return Err(AppError::TooManyMembers { count: members.len(), max: MAX_EXPORT });
        }
        let ordinals: Vec<i64> = members.iter().map(i64::from).collect();
        let rows = read_tx!(self, |tx| Ok(tx.customers_by_ordinals(&ordinals).await?))?;
        let change = Change::new("audience.exported", "audience", "export")
            .set("expression", &expression)
            .set("members", &rows.len());
        write_tx!(self, |tx| change.record(tx, Some(ctx)).await)?;
        Ok(rows)
    }

    /// The `limit` members (within the caller's scope, the seed left out) most like the members
    /// `seed` selects, best first, each with the features that made them alike (HQ).
    pub async fn audience_lookalike(
        &self,
        ctx: &Ctx,
        seed: &str,
        limit: usize,
    ) -> AppResult<Vec<(Customer, Option<String>, f64, Vec<String>)>> {
        ctx.require(Permission::ExportCustomers)?;
        if !(1..=MAX_LOOKALIKE).contains(&limit) {
            let max = MAX_LOOKALIKE as i64;
            return Err(quanyu_domain::DomainError::OutOfRange { field: "limit", min: 1, max }.into());
        }
        let seed_members = self.select(ctx, seed).await?;
        let state = self.audience_state().await?;
        let scope = self.scope_filter(ctx).await?;
        let ranked = off_the_workers(move || state.read().lookalike(&seed_members, scope.as_ref(), limit)).await?;
        let ordinals: Vec<i64> = ranked.iter().map(|r| i64::from(r.member)).collect();
        let rows = read_tx!(self, |tx| Ok(tx.customers_by_ordinals(&ordinals).await?))?;
        let mut by_ordinal: std::collections::HashMap<i64, (Customer, Option<String>)> =
            rows.into_iter().map(|(c, phone)| (c.ordinal, (c, phone))).collect();
        Ok(ranked
            .into_iter()
            .filter_map(|r| {
                let (customer, phone) = by_ordinal.remove(&i64::from(r.member))?;
                Some((customer, phone, r.score, r.features))
            })
            .collect())
    }

    /// The bitmap of members an expression selects within the caller's scope.
    pub(crate) async fn select(&self, ctx: &Ctx, expression: &str) -> AppResult<RoaringBitmap> {
        let (state, segment) = self.segment(ctx, expression).await?;
        off_the_workers(move || state.read().evaluate(&segment)).await
    }

    /// The index and `expression` parsed against it, narrowed to the caller's scope (one `AND`,
    /// so the scope's bitmap is one more step of the plan, not a second evaluation).
    async fn segment(&self, ctx: &Ctx, expression: &str) -> AppResult<(Arc<AudienceState>, Expr)> {
        if expression.len() > MAX_EXPRESSION {
            let max = MAX_EXPRESSION as i64;
            return Err(quanyu_domain::DomainError::OutOfRange { field: "expression", min: 1, max }.into());
        }
        // Saved with its audience and searched for tag names: no control characters.
        quanyu_domain::text::plain("expression", expression)?;
        let state = self.audience_state().await?;
        let parsed = |state: &AudienceState| {
            let mut schema = audience_schema();
            for tag in state.read().tag_names() {
                schema.add_tag(tag);
            }
            quanyu_audience::parse(expression, &schema)
        };
        let mut expr = parsed(&state);
        // A tag defined in another instance and carried by nobody yet is not in the log: it is
        // known once the database says it exists (each unknown tag looked up once).
        while let Err(quanyu_audience::ExprError::UnknownTag { name, .. }) = &expr {
            if read_tx!(self, |tx| Ok(tx.tag_by_name(name).await?))?.is_none() {
                break;
            }
            state.shards.write().unwrap_or_else(|e| e.into_inner()).declare_tag(name);
            expr = parsed(&state);
        }
        let today = u64::try_from(day(now())).unwrap_or(0);
        let expr = expr.map_err(AppError::Expression)?.days_ago("last_order_days", LAST_ORDER_DAY, today);
        let segment = match (self.scope_filter(ctx).await?, expr) {
            (None, expr) => expr,
            (Some(scope), Expr::And(mut operands)) => {
                operands.push(scope);
                Expr::And(operands)
            }
            (Some(scope), expr) => Expr::And(vec![expr, scope]),
        };
        Ok((state, segment))
    }

    /// The expression that limits a region's or store's staff to their members.
    async fn scope_filter(&self, ctx: &Ctx) -> AppResult<Option<Expr>> {
        let code = match ctx.actor.scope() {
            Scope::All => return Ok(None),
            Scope::Region(region) => {
                let code = read_tx!(self, |tx| Ok(tx.get_region(region).await?.map(|r| r.code)))?;
                ("region", code)
            }
            Scope::Store(store) => {
                let code = read_tx!(self, |tx| Ok(tx.get_store(store).await?.map(|s| s.code)))?;
                ("home_store", code)
            }
        };
        let (field, value) = (code.0, code.1.ok_or(AppError::OutOfScope)?);
        Ok(Some(Expr::Category { field: field.to_owned(), op: quanyu_audience::CategoryOp::Eq, value }))
    }

    /// The index, caught up with the log of changes: past its [`INDEX_TTL`] it still serves
    /// while one build of the next runs in the background (a count never waits for every member
    /// to be read again), unless the log may have lost changes it missed.
    async fn audience_state(&self) -> AppResult<Arc<AudienceState>> {
        let state = match self.audiences.kept() {
            Some((state, false)) => state,
            Some((state, true)) => {
                self.rebuild_audience_index_in_background();
                state
            }
            None => self.audiences.get_or_build(|| self.build_audience_state()).await?,
        };
        if self.catch_up(&state, false, CATCH_UP).await? == CaughtUp::Lost {
            // Not read for longer than the log is trusted: read whole before counting.
            self.audiences.invalidate();
            let state = self.audiences.get_or_build(|| self.build_audience_state()).await?;
            self.catch_up(&state, false, CATCH_UP).await?;
            return Ok(state);
        }
        Ok(state)
    }

    /// Keeps this instance's index current without waiting for a count (the sweeper, every
    /// tick; a big catch-up goes on in the background, as for a count, so the sweeper's other
    /// work does not wait for it): the first count after a quiet night does not reload the
    /// night's changes, and the log is read long before its entries are pruned. `None` when no
    /// index is kept (nobody counted yet).
    pub async fn keep_audience_index_current(&self) -> AppResult<Option<CaughtUp>> {
        self.keep_audience_index_current_within(CATCH_UP).await
    }

    /// [`keep_audience_index_current`](Self::keep_audience_index_current), reloading every
    /// changed member before it returns however many (for a benchmark or a command that wants
    /// the index current when it is done).
    pub async fn catch_audience_index_up_now(&self) -> AppResult<Option<CaughtUp>> {
        self.keep_audience_index_current_within(CatchUp { inline: usize::MAX, ..CATCH_UP }).await
    }

    async fn keep_audience_index_current_within(&self, bounds: CatchUp) -> AppResult<Option<CaughtUp>> {
        let Some((state, stale)) = self.audiences.kept() else { return Ok(None) };
        if stale {
            self.rebuild_audience_index_in_background();
        }
        let caught_up = self.catch_up(&state, true, bounds).await?;
        if caught_up == CaughtUp::Lost {
            self.audiences.invalidate();
            self.rebuild_audience_index_in_background();
        }
        Ok(Some(caught_up))
    }

    /// Reads every member into a new index in the background (one build at a time), the kept
    /// one serving until it is done.
    fn rebuild_audience_index_in_background(&self) {
        if !self.audiences.claim_refresh() {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            // Released however the build ends, a panic included.
            let _refresh = RefreshClaim(app.clone());
            if let Err(err) = app.audiences.get_or_build(|| app.build_audience_state()).await {
                tracing::warn!(error = %err, "rebuilding the audience index failed; the old one serves");
            }
        });
    }

    /// Reloads, in place, the members the log of changes names after the index's cursor: when
    /// `due` or [`CATCH_UP_EVERY`] has passed, at once after a change made here; one catch-up at
    /// a time (a count that finds one running counts on what is there). Up to `bounds.inline`
    /// members are reloaded before the count; more (a nightly rebuild's) in the background,
    /// counts using what is there meanwhile.
    async fn catch_up(&self, state: &Arc<AudienceState>, due: bool, bounds: CatchUp) -> AppResult<CaughtUp> {
        if state.superseded.load(Ordering::Acquire) {
            return Ok(CaughtUp::ReadingWhole);
        }
        let Ok(mut cursor) = Arc::clone(&state.cursor).try_lock_owned() else { return Ok(CaughtUp::Reloaded(0)) };
        let changed_here = state.changed_here.swap(false, Ordering::AcqRel);
        let since = cursor.read_at.elapsed();
        if since >= bounds.trusted_for {
            return Ok(CaughtUp::Lost);
        }
        if !due && !changed_here && since < CATCH_UP_EVERY {
            return Ok(CaughtUp::Reloaded(0));
        }
        let (read_at, from) = (Instant::now(), cursor.at.clone());
        let share = u32::try_from(state.read().members() / RELOAD_SHARE).unwrap_or(u32::MAX);
        let most = bounds.most.max(share);
        let (changed, next) = read_tx!(self, |tx| Ok(tx.audience_changes(&from, most).await?))?;
        let Some(ordinals) = changed else {
            // Too many to reload one by one (a first night's scores): every member is read
            // again in the background, and this index counts until then without reading the
            // log again.
            state.superseded.store(true, Ordering::Release);
            self.audiences.expire();
            self.rebuild_audience_index_in_background();
            return Ok(CaughtUp::ReadingWhole);
        };
        if ordinals.len() <= bounds.inline {
            self.reload_members(state, &ordinals, bounds.chunk).await?;
            *cursor = Cursor { at: next, read_at };
            return Ok(CaughtUp::Reloaded(ordinals.len()));
        }
        let (app, state, reloading) = (self.clone(), Arc::clone(state), ordinals.len());
        tokio::spawn(async move {
            match app.reload_members(&state, &ordinals, bounds.chunk).await {
                Ok(()) => *cursor = Cursor { at: next, read_at },
                // The cursor stays: the next catch-up reads them again.
                Err(err) => tracing::warn!(error = %err, "catching the audience index up failed; retrying"),
            }
        });
        Ok(CaughtUp::Reloading(reloading))
    }

    /// Reads `ordinals` again into the index, `chunk` members per read and per hold of the index
    /// (counts run between chunks); members no longer live (merged) are left out.
    async fn reload_members(&self, state: &AudienceState, ordinals: &[i64], chunk: usize) -> AppResult<()> {
        for chunk in ordinals.chunks(chunk.max(1)) {
            let (rows, tags) =
                read_tx!(self, |tx| Ok((tx.audience_rows_of(chunk).await?, tx.tag_rows_of(chunk).await?)))?;
            let changed: RoaringBitmap = chunk.iter().filter_map(|&o| u32::try_from(o).ok()).collect();
            let live: RoaringBitmap = rows.iter().filter_map(|row| u32::try_from(row.ordinal).ok()).collect();
            let mut shards = state.shards.write().unwrap_or_else(|e| e.into_inner());
            // Their tags are set again below, their attributes in place (moving a numeric value
            // only across the bins between its old and new value); merged members go.
            shards.remove_tags_of(&live);
            shards.remove_members(&(changed - &live));
            for row in &rows {
                if let Ok(member) = u32::try_from(row.ordinal) {
                    set_member(shards.shard_mut(member), member, row);
                }
            }
            for (ordinal, tag) in &tags {
                let Ok(member) = u32::try_from(*ordinal) else { continue };
                // Known on every shard, so an expression naming it resolves on each.
                shards.declare_tag(tag);
                shards.shard_mut(member).add_tag(member, tag);
            }
        }
        Ok(())
    }

    /// How many live members carry `tag`, from the index (a bitmap's length per shard): an
    /// aggregate over every member-tag row would take minutes at tens of millions of members.
    pub(crate) async fn tag_carriers(&self) -> AppResult<impl Fn(&str) -> u64> {
        let state = self.audience_state().await?;
        Ok(move |tag: &str| state.read().carriers(tag))
    }

    /// Forgets the log of audience changes older than [`AUDIENCE_CHANGES_KEPT`] (the sweeper,
    /// daily); how many entries went.
    pub async fn prune_audience_changes(&self, at: Timestamp) -> AppResult<u64> {
        write_tx!(self, |tx| Ok(tx.prune_audience_changes(at - AUDIENCE_CHANGES_KEPT).await?))
    }

    /// A change made here to members the index holds: the next count reads the log first.
    pub(crate) fn audience_changed(&self) {
        if let Some((state, _)) = self.audiences.kept() {
            state.changed_here.store(true, Ordering::Release);
        }
    }

    /// A tag defined here: known to the index at once (carried by nobody yet).
    pub(crate) fn audience_tag_defined(&self, tag: &str) {
        if let Some((state, _)) = self.audiences.kept() {
            state.shards.write().unwrap_or_else(|e| e.into_inner()).declare_tag(tag);
        }
    }

    /// The index read from the database, cut into shards, with the log's cursor taken first:
    /// whatever changes while the members are read is read again from the log.
    async fn build_audience_state(&self) -> AppResult<AudienceState> {
        let read_at = Instant::now();
        let at = read_tx!(self, |tx| Ok(tx.audience_cursor().await?))?;
        let mut index = AudienceIndex::default();
        for tag in read_tx!(self, |tx| Ok(tx.list_tags().await?))? {
            index.declare_tag(&tag.name);
        }
        // A page of members at a time, with the tags of the ordinals it spans.
        let mut after = 0i64;
        loop {
            let (rows, tags) = read_tx!(self, |tx| {
                let rows = tx.audience_rows(after, PAGE).await?;
                let tags = match rows.last() {
                    Some(last) => tx.tag_rows(after, last.ordinal).await?,
                    None => Vec::new(),
                };
                Ok((rows, tags))
            })?;
            for row in &rows {
                if let Ok(member) = u32::try_from(row.ordinal) {
                    set_member(&mut index, member, row);
                }
            }
            for (ordinal, tag) in &tags {
                if let Ok(member) = u32::try_from(*ordinal) {
                    index.add_tag(member, tag);
                }
            }
            match rows.last() {
                Some(last) if rows.len() == PAGE as usize => after = last.ordinal,
                _ => break,
            }
        }
        // Filled member by member, the numeric fields have no bins yet: cut them once, so
        // comparisons settle most members with two bitmaps instead of walking every bit slice.
        index.rebin_numeric();
        // Moved into its shards, not kept beside them: at 40M members the index is ~5 GiB.
        Ok(AudienceState {
            shards: RwLock::new(Shards::new(index, self.config.audience_shards)),
            cursor: Arc::new(tokio::sync::Mutex::new(Cursor { at, read_at })),
            changed_here: AtomicBool::new(false),
            superseded: AtomicBool::new(false),
        })
    }
}

/// The index of one instance, and where it stands in the log of audience changes.
pub(crate) struct AudienceState {
    shards: RwLock<Shards>,
    /// Where this index stands in the log (held by the one catch-up under way).
    cursor: Arc<tokio::sync::Mutex<Cursor>>,
    /// A change was made in this instance: read the log before the next count.
    changed_here: AtomicBool,
    /// More changed than a catch-up reloads: a build reading every member replaces this index,
    /// which no longer reads the log.
    superseded: AtomicBool,
}

/// Where an index stands in the log of audience changes.
struct Cursor {
    /// The log read up to.
    at: AudienceCursor,
    /// When that cursor was taken.
    read_at: Instant,
}

/// What catching an audience index up with the log of changes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaughtUp {
    /// Reloaded this many changed members (none: nothing changed, not due, or another
    /// catch-up under way).
    Reloaded(usize),
    /// Reloading this many in the background.
    Reloading(usize),
    /// Too many changed to reload one by one: every member is being read again in the
    /// background.
    ReadingWhole,
    /// The index's cursor was taken longer ago than the log is trusted to keep every change
    /// since: it is read whole again.
    Lost,
}

impl AudienceState {
    /// The shards, to count on (a catch-up waits for the counts under way).
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Shards> {
        self.shards.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// Makes `member` live in `index` with what `row` says of them, replacing any attributes they
/// had (their tags are the caller's).
fn set_member(index: &mut AudienceIndex, member: u32, row: &AudienceRow) {
    index.insert_member(member);
    let categories =
        [("tier", &row.tier), ("home_store", &row.home_store), ("region", &row.region), ("stage", &row.stage)];
    for (field, value) in categories {
        match value {
            Some(value) => index.set_category(member, field, value),
            None => _ = index.clear_category(member, field),
        }
    }
    let numbers = [
        ("points", row.points),
        ("spend_365d", row.spend),
        ("orders_365d", row.orders),
        ("r", row.r),
        ("f", row.f),
        ("m", row.m),
    ];
    for (field, value) in numbers {
        index.set_number(member, field, u64::try_from(value).unwrap_or(0));
    }
    // Members who never ordered have no last order: `last_order_days > 30` leaves them out, as
    // the growth team means it.
    if row.r > 0 {
        let rfm = |v: i64| u8::try_from(v).unwrap_or(0);
        let scores = quanyu_audience::Rfm { r: rfm(row.r), f: rfm(row.f), m: rfm(row.m) };
        index.set_category(member, "rfm_segment", quanyu_audience::lifecycle::rfm_segment(scores));
    } else {
        index.clear_category(member, "rfm_segment");
    }
    // The day, not how many days ago: the index does not go stale as days pass
    // (`last_order_days` is rewritten against today before a count).
    match row.last_order_at {
        Some(last) => index.set_number(member, LAST_ORDER_DAY, u64::try_from(day(last)).unwrap_or(0)),
        None => _ = index.clear_number(member, LAST_ORDER_DAY),
    }
}

/// A claimed background refresh of the audience index, given up when dropped.
struct RefreshClaim(App);

impl Drop for RefreshClaim {
    fn drop(&mut self) {
        self.0.audiences.refreshed();
    }
}

/// Runs bitmap algebra on a blocking thread: over tens of millions of members a count takes
/// milliseconds of every core (one thread per shard), which would stall the requests queued on
/// an async worker.
async fn off_the_workers<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("an audience evaluation stopped: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppConfig, CustomerDraft, PasswordHasher, StoredReply, Written};

    fn no_reply<T>(_: &T) -> StoredReply {
        StoredReply { status: 201, body: Vec::new() }
    }

    /// A catch-up bigger than a count waits for reloads its members in the background, a chunk
    /// at a time; one bigger than the most it reloads reads every member again; an index whose
    /// cursor is older than the log is trusted for is lost, on each backend.
    #[tokio::test]
    async fn big_catch_ups_go_on_in_the_background_and_an_old_cursor_is_not_trusted() {
        let (sqlite, postgres) = (quanyu_store::testing::sqlite().await, quanyu_store::testing::postgres().await);
        for db in [Some(sqlite), postgres].into_iter().flatten() {
            let config = || AppConfig { passwords: PasswordHasher::fast_for_tests(), ..Default::default() };
            let (app, other) = (App::new(db.database(), config()), App::new(db.database(), config()));
            let system = Ctx::system();
            let mut members = Vec::new();
            for n in 0..5 {
                let draft = CustomerDraft {
                    identities: vec![("phone".into(), format!("1370000000{n}"))],
                    ..Default::default()
                };
                let Written::Fresh(profile) = app.register_customer(&system, draft, &no_reply).await.unwrap() else {
                    panic!("a new customer")
                };
                members.push(profile.customer.id);
            }
            app.create_tag(&system, "常客", "manual", None).await.unwrap();
            assert_eq!(app.audience_count(&system, "#常客").await.unwrap(), 0, "{}: the index is read", db.label());
            let state = app.audiences.kept().expect("kept").0;
            let regular = Expr::Tag("常客".into());

            for &member in &members {
                other.set_customer_tag(&system, member, "常客", true).await.unwrap();
            }
            let small = CatchUp { most: 100, inline: 2, chunk: 2, trusted_for: CATCH_UP.trusted_for };
            assert!(matches!(app.catch_up(&state, true, small).await.unwrap(), CaughtUp::Reloading(5..)));
            // The background catch-up holds the cursor until it is done.
            drop(state.cursor.lock().await);
            assert_eq!(state.read().count(&regular), 5, "{}: reloaded two at a time", db.label());

            for &member in &members {
                other.set_customer_tag(&system, member, "常客", false).await.unwrap();
            }
            let tiny = CatchUp { most: 3, ..small };
            assert_eq!(app.catch_up(&state, true, tiny).await.unwrap(), CaughtUp::ReadingWhole);
            assert_eq!(app.catch_up(&state, true, small).await.unwrap(), CaughtUp::ReadingWhole, "superseded");
            assert!(app.audiences.kept().is_some_and(|(_, stale)| stale), "{}: too many: read again", db.label());
            assert_eq!(state.read().count(&regular), 5, "{}: the old index counts meanwhile", db.label());
            // Waits for the build in the background (or builds, should it not have begun).
            let rebuilt = app.audiences.get_or_build(|| app.build_audience_state()).await.unwrap();
            assert_eq!(rebuilt.read().count(&regular), 0, "{}", db.label());
            assert_eq!(app.audience_count(&system, "#常客").await.unwrap(), 0, "{}", db.label());

            let state = app.audiences.kept().expect("kept").0;
            let untrusted = CatchUp { trusted_for: Duration::ZERO, ..small };
            assert_eq!(app.catch_up(&state, true, untrusted).await.unwrap(), CaughtUp::Lost, "{}", db.label());
        }
    }
}
