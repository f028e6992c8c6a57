//! Customer sign-in for the H5 mall: a one-time code sent by SMS to the customer's phone, and
//! customer sessions, separate from staff sessions.
//!
//! A code is six digits, kept only as a salted SHA-256, valid for five minutes and for five
//! checks; each phone has one active code, and a new one is sent no sooner than a minute after
//! the last. Every check consumes an attempt atomically before the code is compared, so
//! concurrent guesses cannot exceed the limit. Signing in with a phone no customer holds
//! registers one (through the registration use case, with the invite code of the link the
//! visitor came through). A session is a random 256-bit secret of which only the hash is
//! stored, with an expiry, revocable by signing out.

use std::fmt::Debug;

use quanyu_domain::{customer::Customer, ids::CustomerId, text::Phone, time::Timestamp};
use quanyu_store::{CustomerSession, LoginCode};
use rand::Rng as _;

use crate::{
    App, AppError, AppResult, Ctx, CustomerDraft, Origin, Written,
    auth::{hash_secret, new_secret},
    write::now,
};

/// How long a sign-in code is valid.
pub const LOGIN_CODE_TTL: chrono::Duration = chrono::Duration::minutes(5);
/// How many checks one code allows.
pub const LOGIN_CODE_ATTEMPTS: i32 = 5;
/// How soon after a code another may be sent to the same phone.
pub const LOGIN_CODE_RESEND: chrono::Duration = chrono::Duration::seconds(60);
/// How long a customer stays signed in.
pub const CUSTOMER_SESSION_TTL: chrono::Duration = chrono::Duration::days(30);

/// Sends text messages to mobile phones: the seam behind which an SMS gateway sits.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync + Debug {
    async fn send(&self, phone: &Phone, text: &str) -> AppResult<()>;
}

/// Writes each message to the server log (tracing, info) with the number masked: the provider
/// of a deployment without an SMS gateway, and of the demo, whose operator reads codes there.
#[derive(Debug, Default)]
pub struct LogSms;

#[async_trait::async_trait]
impl SmsSender for LogSms {
    async fn send(&self, phone: &Phone, text: &str) -> AppResult<()> {
        tracing::info!(target: "quanyu::sms", "SMS to {}: {text}", mask_phone(phone));
        Ok(())
    }
}

/// Keeps every message in memory instead of sending it: for tests and for local runs that read
/// codes programmatically.
#[derive(Debug, Default)]
pub struct SmsOutbox {
    sent: std::sync::Mutex<Vec<(String, String)>>,
}

impl SmsOutbox {
    /// (phone, text) of every message so far, oldest first.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl SmsSender for SmsOutbox {
    async fn send(&self, phone: &Phone, text: &str) -> AppResult<()> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((phone.as_str().to_owned(), text.to_owned()));
        Ok(())
    }
}

/// `13812341234` → `138****1234`.
pub fn mask_phone(phone: &Phone) -> String {
    let digits = phone.as_str();
    format!("{}****{}", &digits[..3], &digits[7..])
}

/// A code was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCodeSent {
    pub expires_at: Timestamp,
    /// When another code may be asked for.
    pub resend_at: Timestamp,
}

/// What signing in needs.
#[derive(Debug, Clone, Default)]
pub struct CustomerSignInDraft {
    pub phone: String,
    pub code: String,
    /// The invite code of the link the visitor came through: a new customer becomes that
    /// promoter's referral.
    pub invite_code: Option<String>,
    /// The store the visitor was shopping at: a new customer's home store.
    pub home_store_id: Option<quanyu_domain::ids::StoreId>,
}

/// A customer signed in: the session secret is shown once.
#[derive(Debug, Clone)]
pub struct CustomerSignedIn {
    pub customer: Customer,
    pub secret: String,
    pub expires_at: Timestamp,
    /// This sign-in registered the customer.
    pub registered: bool,
}

/// A signed-in customer making a request: the principal of the shop use cases.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub customer_id: CustomerId,
    pub session_id: uuid::Uuid,
    pub origin: Origin,
    pub idempotency: Option<crate::Idempotency>,
}

impl Shopper {
    /// The context the shop use cases run the chain's use cases under.
    pub(crate) fn ctx(&self) -> Ctx {
        Ctx::customer(self.customer_id, self.origin.clone(), self.idempotency.clone())
    }
}

impl App {
    /// Sends a one-time sign-in code to `phone`, replacing any earlier one.
    pub async fn send_login_code(&self, phone: &str) -> AppResult<LoginCodeSent> {
        let phone = Phone::parse(phone.trim())?;
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
        let salt = new_secret().0;
        let at = now();
        let record = LoginCode {
            phone: phone.as_str().to_owned(),
            code_hash: code_hash(&salt, &code),
            salt,
            attempts: 0,
            sent_at: at,
            expires_at: at + LOGIN_CODE_TTL,
        };
        write_tx!(self, |tx| {
            if let Some(earlier) = tx.get_login_code(phone.as_str()).await? {
                let resend_at = earlier.sent_at + LOGIN_CODE_RESEND;
                if resend_at > at {
                    let seconds = (resend_at - at).num_seconds() + 1;
                    return Err(AppError::LoginCodeTooSoon { retry_after_s: seconds });
                }
            }
            tx.put_login_code(&record).await?;
            Ok(())
        })?;
        // Sent after the commit: a code the customer receives is always one that is stored.
        self.config.sms.send(&phone, &format!("您的验证码是 {code}，5 分钟内有效。")).await?;
        Ok(LoginCodeSent { expires_at: record.expires_at, resend_at: at + LOGIN_CODE_RESEND })
    }

    /// Checks a phone's code and opens a customer session, registering the customer when no one
    /// holds the phone yet.
    pub async fn sign_in_customer(&self, draft: CustomerSignInDraft, origin: &Origin) -> AppResult<CustomerSignedIn> {
        let phone = Phone::parse(draft.phone.trim())?;
        let code = draft.code.trim();
        let at = now();
        let checked = write_tx!(self, |tx| {
            let Some(stored) = tx.take_login_code_attempt(phone.as_str(), LOGIN_CODE_ATTEMPTS).await? else {
                return Ok(match tx.get_login_code(phone.as_str()).await? {
                    Some(used_up) if used_up.expires_at > at => Err(AppError::LoginCodeAttemptsUsed),
                    Some(_) => Err(AppError::LoginCodeExpired),
                    None => Err(AppError::LoginCodeWrong { attempts_left: 0 }),
                });
            };
            if stored.expires_at <= at {
                return Ok(Err(AppError::LoginCodeExpired));
            }
            if !constant_time_eq(&stored.code_hash, &code_hash(&stored.salt, code)) {
                let attempts_left = i64::from(LOGIN_CODE_ATTEMPTS - stored.attempts);
                return Ok(Err(AppError::LoginCodeWrong { attempts_left }));
            }
            if !tx.delete_login_code(phone.as_str(), &stored.code_hash).await? {
                return Ok(Err(AppError::LoginCodeExpired));
            }
            Ok(Ok(()))
        })?;
        // The attempt is committed whether or not the code matched.
        checked?;
        let (customer, registered) = self.customer_for_phone(&phone, &draft, origin).await?;
        let (secret, secret_hash) = new_secret();
        let session = CustomerSession {
            id: uuid::Uuid::now_v7(),
            customer_id: customer.id,
            secret_hash,
            created_at: at,
            expires_at: at + CUSTOMER_SESSION_TTL,
            revoked_at: None,
        };
        write_tx!(self, |tx| Ok(tx.insert_customer_session(&session).await?))?;
        Ok(CustomerSignedIn { customer, secret, expires_at: session.expires_at, registered })
    }

    /// The signed-in customer behind a session secret.
    pub async fn authenticate_customer(&self, secret: &str, origin: &Origin) -> AppResult<Shopper> {
        let secret_hash = hash_secret(secret);
        read_tx!(self, |tx| {
            let session = tx.find_customer_session(&secret_hash).await?.ok_or(AppError::Unauthenticated)?;
            if session.revoked_at.is_some() || session.expires_at <= now() {
                return Err(AppError::Unauthenticated);
            }
            // A customer merged into another since signing in shops as the survivor.
            let customer = crate::customers::resolve(tx, session.customer_id).await?;
            Ok(Shopper { customer_id: customer.id, session_id: session.id, origin: origin.clone(), idempotency: None })
        })
    }

    /// Ends the customer session behind `secret`; unknown or ended sessions are fine.
    pub async fn sign_out_customer(&self, secret: &str) -> AppResult<()> {
        let secret_hash = hash_secret(secret);
        write_tx!(self, |tx| {
            if let Some(session) = tx.find_customer_session(&secret_hash).await? {
                tx.revoke_customer_session(session.id, now()).await?;
            }
            Ok(())
        })
    }

    /// The customer holding `phone`, or a new one registered with it.
    async fn customer_for_phone(
        &self,
        phone: &Phone,
        draft: &CustomerSignInDraft,
        origin: &Origin,
    ) -> AppResult<(Customer, bool)> {
        // A stale or mistyped invite link must not stop a sign-in.
        let invite_code = match draft.invite_code.as_deref() {
            Some(code) => self.promoter_by_invite_code(code).await?.map(|p| p.code),
            None => None,
        };
        let registration = CustomerDraft {
            identities: vec![("phone".to_owned(), phone.as_str().to_owned())],
            home_store_id: draft.home_store_id,
            invite_code,
            ..CustomerDraft::default()
        };
        // The mall registers on the customer's behalf: audited as the system, from the visitor's
        // address.
        let ctx = Ctx { origin: origin.clone(), ..Ctx::system() };
        let reply = |_: &crate::CustomerProfile| crate::StoredReply { status: 0, body: Vec::new() };
        match self.register_customer(&ctx, registration, &reply).await? {
            Written::Fresh(profile) => Ok((profile.customer, !profile.matched_existing)),
            Written::Replayed(_) => Err(AppError::Internal("a sign-in registration was replayed".into())),
        }
    }
}

fn code_hash(salt: &str, code: &str) -> String {
    hash_secret(&format!("{salt}:{code}"))
}

/// Compares two hex digests without stopping at the first difference.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked_in_the_middle() {
        assert_eq!(mask_phone(&Phone::parse("13812341234").unwrap()), "138****1234");
    }

    #[test]
    fn digests_compare_whole() {
        assert!(constant_time_eq("abcd", "abcd"));
        assert!(!constant_time_eq("abcd", "abce"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
