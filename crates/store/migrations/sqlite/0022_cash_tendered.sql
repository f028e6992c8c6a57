-- What the customer handed over for a cash payment, so a reprinted receipt and the cash drawer
-- both know the change given. NULL for other methods, refunds and older payments.
ALTER TABLE payments ADD COLUMN tendered BIGINT;
