-- Customer scores: each customer's order activity in the scoring window (the last 365 days),
-- their RFM scores and lifecycle stage with the time they entered it. Kept current on every
-- payment and refund, and rebuilt in full by the nightly pass.

CREATE TABLE customer_scores (
    customer_id       UUID PRIMARY KEY REFERENCES customers (id),
    orders            BIGINT NOT NULL,
    spend             BIGINT NOT NULL,
    last_order_at     TIMESTAMPTZ,
    r                 BIGINT NOT NULL,
    f                 BIGINT NOT NULL,
    m                 BIGINT NOT NULL,
    stage             TEXT NOT NULL,
    stage_entered_at  TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX customer_scores_stage ON customer_scores (stage);
CREATE INDEX orders_customer_paid ON orders (customer_id, created_at) WHERE paid > 0;
