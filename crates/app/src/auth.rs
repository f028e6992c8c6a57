//! Logging in, sessions and API tokens.
//!
//! A session and an API token are the same thing underneath: a random 256-bit secret handed to
//! the client once, of which only the SHA-256 is stored, bound to a staff member and revocable.
//! The web UI carries the session secret in a cookie; integrations send a bearer token.

use base64::Engine as _;
use quanyu_domain::{
    authz::{Actor, Permission},
    ids::TokenId,
    org::{Scope, Staff, StaffStatus},
    text,
};
use quanyu_store::{TokenKind, TokenRecord, Tx};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Origin, Reply, Written, change::Change, listing::Cursor, write::now,
};

/// A successful login: who logged in and the session secret (shown once).
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub staff: Staff,
    pub secret: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct NewApiToken {
    pub name: String,
    /// Days until it expires; `None` never expires.
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ApiTokenCreated {
    pub token: TokenRecord,
    /// The secret, shown once.
    pub secret: String,
}

impl App {
    /// Checks a login (username or phone) and password and opens a session.
    pub async fn login(&self, login: &str, password: &str, origin: &Origin) -> AppResult<LoginOutcome> {
        let login = login.trim().to_lowercase();
        text::plain("login", &login)?;
        let found = read_tx!(self, |tx| Ok(tx.find_staff_for_login(&login).await?))?;
        let Some((staff, hash)) = found else {
            // Spend the time a verification would, so unknown logins cannot be told apart.
            let _ = self.config.passwords.hash(password).await;
            return Err(AppError::InvalidCredentials);
        };
        if !self.config.passwords.verify(password, &hash).await? {
            return Err(AppError::InvalidCredentials);
        }
        if staff.status != StaffStatus::Active {
            return Err(AppError::AccountDisabled);
        }
        let (secret, secret_hash) = new_secret();
        let created_at = now();
        let expires_at = created_at + self.config.session_ttl;
        let token = TokenRecord {
            id: TokenId::new(),
            staff_id: staff.id,
            kind: TokenKind::Session,
            name: String::new(),
            secret_hash,
            created_at,
            expires_at: Some(expires_at),
            revoked_at: None,
        };
        let ctx = Ctx { actor: self.actor_for(&staff).await?, origin: origin.clone(), idempotency: None };
        write_tx!(self, |tx| {
            tx.insert_token(&token).await?;
            Change::new("auth.logged_in", "staff", staff.id).record(tx, Some(&ctx)).await
        })?;
        Ok(LoginOutcome { staff, secret, expires_at })
    }

    /// The actor behind a session or API token secret.
    pub async fn authenticate(&self, secret: &str) -> AppResult<Actor> {
        let secret_hash = hash_secret(secret);
        if let Some(actor) = self.sessions.get(&secret_hash) {
            return Ok(actor);
        }
        let (actor, expires_at) = read_tx!(self, |tx| {
            let token = tx.find_token_by_hash(&secret_hash).await?.ok_or(AppError::Unauthenticated)?;
            let at = now();
            if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= at) {
                return Err(AppError::Unauthenticated);
            }
            let staff = tx.get_staff(token.staff_id).await?.ok_or(AppError::Unauthenticated)?;
            if staff.status != StaffStatus::Active {
                return Err(AppError::AccountDisabled);
            }
            Ok((actor_in(tx, &staff).await?, token.expires_at))
        })?;
        self.sessions.put(secret_hash, actor.clone(), expires_at);
        Ok(actor)
    }

    /// Ends the session behind `secret`. Unknown or already ended sessions are fine.
    pub async fn logout(&self, ctx: &Ctx, secret: &str) -> AppResult<()> {
        let secret_hash = hash_secret(secret);
        self.sessions.forget(&secret_hash);
        write_tx!(self, |tx| {
            if let Some(token) = tx.find_token_by_hash(&secret_hash).await?
                && tx.revoke_token(token.id, now()).await?
            {
                Change::new("auth.logged_out", "staff", token.staff_id).record(tx, Some(ctx)).await?;
            }
            Ok(())
        })
    }

    /// Issues an API token for the calling admin's account.
    /// Issues an API token acting as the caller. Under an idempotency key a retry gets the
    /// stored reply, which `reply` must render without the secret: secrets are never stored.
    pub async fn create_api_token(
        &self,
        ctx: &Ctx,
        input: NewApiToken,
        reply: Reply<'_, ApiTokenCreated>,
    ) -> AppResult<Written<ApiTokenCreated>> {
        ctx.require(Permission::ManageApiTokens)?;
        let name = text::required("name", &input.name, 64)?;
        if input.expires_in_days.is_some_and(|d| d == 0 || d > 3650) {
            return Err(quanyu_domain::DomainError::OutOfRange { field: "expires_in_days", min: 1, max: 3650 }.into());
        }
        let (secret, secret_hash) = new_secret();
        let created_at = now();
        let token = TokenRecord {
            id: TokenId::new(),
            staff_id: ctx.actor.staff_id,
            kind: TokenKind::Api,
            name,
            secret_hash,
            created_at,
            expires_at: input.expires_in_days.map(|d| created_at + chrono::Duration::days(d.into())),
            revoked_at: None,
        };
        write_idempotent!(self, ctx, reply, |tx| {
            tx.insert_token(&token).await?;
            Change::new("api_token.created", "api_token", token.id)
                .set("name", &token.name)
                .record(tx, Some(ctx))
                .await?;
            Ok(ApiTokenCreated { token, secret })
        })
    }

    pub async fn list_api_tokens(
        &self,
        ctx: &Ctx,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<TokenRecord>> {
        ctx.require(Permission::ManageApiTokens)?;
        let page = Cursor::page(cursor, limit)?;
        let rows: Vec<TokenRecord> = read_tx!(self, |tx| Ok(tx.list_tokens(TokenKind::Api, page).await?))?;
        Ok(Listing::from_rows(rows, page, |t| t.id.as_uuid()))
    }

    pub async fn revoke_api_token(&self, ctx: &Ctx, id: TokenId) -> AppResult<()> {
        ctx.require(Permission::ManageApiTokens)?;
        write_tx!(self, |tx| {
            let token = tx.get_token(id).await?.filter(|t| t.kind == TokenKind::Api);
            let token = token.ok_or(AppError::NotFound { entity: "api_token" })?;
            if tx.revoke_token(token.id, now()).await? {
                Change::new("api_token.revoked", "api_token", token.id).record(tx, Some(ctx)).await?;
            }
            Ok(token.secret_hash)
        })
        .map(|secret_hash| self.sessions.forget(&secret_hash))
    }

    async fn actor_for(&self, staff: &Staff) -> AppResult<Actor> {
        read_tx!(self, |tx| actor_in(tx, staff).await)
    }
}

/// Builds the actor for a staff member, resolving a store-scoped member's region.
async fn actor_in(tx: &mut dyn Tx, staff: &Staff) -> AppResult<Actor> {
    let home_region = match staff.assignment.scope() {
        Scope::Store(store_id) => tx.get_store(store_id).await?.map(|s| s.region_id),
        Scope::Region(region_id) => Some(region_id),
        Scope::All => None,
    };
    Ok(Actor { staff_id: staff.id, username: staff.username.clone(), assignment: staff.assignment, home_region })
}

/// A fresh secret (URL-safe base64 of 32 random bytes) and its stored hash.
pub(crate) fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_secret(&secret);
    (secret, hash)
}

pub(crate) fn hash_secret(secret: &str) -> String {
    quanyu_domain::text::hex(&Sha256::digest(secret.as_bytes()))
}
