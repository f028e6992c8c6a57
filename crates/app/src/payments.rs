//! Payment providers: the seam through which an order's money is taken and given back. Cash and
//! card terminals are recorded, not called (the till or the terminal moves the money); stored
//! value debits and credits the buyer's balance in the payment's own transaction. WeChat Pay
//! will call its API behind the same seam.

use quanyu_domain::{DomainError, Money, order::Order, order::PaymentMethod, text};
use quanyu_store::Tx;

use crate::{AppError, AppResult, Ctx};

/// Takes and gives back money for one payment method.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    fn method(&self) -> PaymentMethod;
    /// Takes `amount` for `order` in the payment's transaction; returns the reference to record.
    async fn charge(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        order: &Order,
        amount: Money,
        reference: Option<&str>,
    ) -> AppResult<Option<String>>;
    /// Gives `amount` of `order` back under `key` (one per refund or cancellation).
    async fn refund(&self, tx: &mut dyn Tx, ctx: &Ctx, order: &Order, amount: Money, key: &str) -> AppResult<()>;
}

/// Cash at the till: nothing to check, no reference; the cashier hands refunds back.
pub struct Cash;

#[async_trait::async_trait]
impl PaymentProvider for Cash {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::Cash
    }

    async fn charge(&self, _: &mut dyn Tx, _: &Ctx, _: &Order, _: Money, _: Option<&str>) -> AppResult<Option<String>> {
        Ok(None)
    }

    async fn refund(&self, _: &mut dyn Tx, _: &Ctx, _: &Order, _: Money, _: &str) -> AppResult<()> {
        Ok(())
    }
}

/// A bank-card terminal: the terminal takes the money; its reference proves it.
pub struct CardTerminal;

#[async_trait::async_trait]
impl PaymentProvider for CardTerminal {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::Card
    }

    async fn charge(
        &self,
        _: &mut dyn Tx,
        _: &Ctx,
        _: &Order,
        _: Money,
        reference: Option<&str>,
    ) -> AppResult<Option<String>> {
        let reference =
            text::optional("reference", reference, 64)?.ok_or(DomainError::Required { field: "reference" })?;
        Ok(Some(reference))
    }

    async fn refund(&self, _: &mut dyn Tx, _: &Ctx, _: &Order, _: Money, _: &str) -> AppResult<()> {
        Ok(())
    }
}

/// The buyer's stored value (储值): the order needs a member, whose balance must hold the amount.
pub struct StoredValue;

#[async_trait::async_trait]
impl PaymentProvider for StoredValue {
    fn method(&self) -> PaymentMethod {
        PaymentMethod::StoredValue
    }

    async fn charge(
        &self,
        tx: &mut dyn Tx,
        ctx: &Ctx,
        order: &Order,
        amount: Money,
        _: Option<&str>,
    ) -> AppResult<Option<String>> {
        let customer = order.customer_id.ok_or(DomainError::Required { field: "customer_id" })?;
        let negative = Money::ZERO.checked_sub(amount).ok_or(DomainError::MoneyOverflow { field: "amount" })?;
        let key = format!("order:{}:pay", order.id);
        crate::stored_value::apply(tx, ctx, customer, "pay", negative, Some(order.id), key).await?;
        Ok(None)
    }

    async fn refund(&self, tx: &mut dyn Tx, ctx: &Ctx, order: &Order, amount: Money, key: &str) -> AppResult<()> {
        let customer = order
            .customer_id
            .ok_or(AppError::Internal(format!("order {} paid by stored value has no customer", order.id)))?;
        let key = format!("order:{}:refund:{key}", order.id);
        crate::stored_value::apply(tx, ctx, customer, "refund", amount, Some(order.id), key).await
    }
}

pub(crate) fn provider(method: PaymentMethod) -> &'static dyn PaymentProvider {
    match method {
        PaymentMethod::Cash => &Cash,
        PaymentMethod::Card => &CardTerminal,
        PaymentMethod::StoredValue => &StoredValue,
    }
}
