-- Marketing: coupon templates with what has been issued from them, the coupons in customers'
-- wallets, the coupon ledger (every issue, use, restore and void under a unique key), what each
-- customer has been issued per template (the per-customer limit as a guarded counter), and the
-- promotions stores run. Rule parameters (a coupon's kind, a promotion's kind, a scope) are JSON
-- in the shape of the domain's types; channels are a comma-separated list, stores a JSON array.

CREATE TABLE coupon_templates (
    id                  UUID PRIMARY KEY,
    name                TEXT NOT NULL,
    kind                JSONB NOT NULL,
    threshold           BIGINT NOT NULL,
    scope               JSONB NOT NULL,
    valid_from          TIMESTAMPTZ,
    valid_until         TIMESTAMPTZ,
    valid_days          BIGINT,
    channels            TEXT NOT NULL,
    store_ids           JSONB NOT NULL,
    budget_count        BIGINT,
    budget_value        BIGINT,
    per_customer_limit  BIGINT,
    claimable           BOOLEAN NOT NULL,
    auto_issue          TEXT,
    restore_on_refund   BOOLEAN NOT NULL,
    status              TEXT NOT NULL,
    issued              BIGINT NOT NULL,
    issued_value        BIGINT NOT NULL,
    created_by          UUID,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    CHECK (budget_count IS NULL OR issued <= budget_count),
    CHECK (budget_value IS NULL OR issued_value <= budget_value)
);
CREATE INDEX coupon_templates_auto ON coupon_templates (auto_issue) WHERE auto_issue IS NOT NULL;

CREATE TABLE coupon_holdings (
    template_id  UUID NOT NULL REFERENCES coupon_templates (id),
    customer_id  UUID NOT NULL REFERENCES customers (id),
    issued       BIGINT NOT NULL,
    PRIMARY KEY (template_id, customer_id)
);

CREATE TABLE coupons (
    id           UUID PRIMARY KEY,
    template_id  UUID NOT NULL REFERENCES coupon_templates (id),
    customer_id  UUID NOT NULL REFERENCES customers (id),
    status       TEXT NOT NULL,
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    source       TEXT NOT NULL,
    issued_by    UUID,
    order_id     UUID,
    used_at      TIMESTAMPTZ,
    issued_at    TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX coupons_customer ON coupons (customer_id, id);
CREATE INDEX coupons_template ON coupons (template_id);
CREATE INDEX coupons_order ON coupons (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE coupon_ledger (
    id         UUID PRIMARY KEY,
    coupon_id  UUID NOT NULL REFERENCES coupons (id),
    -- issue, use, restore, void
    kind       TEXT NOT NULL,
    order_id   UUID,
    idem_key   TEXT NOT NULL UNIQUE,
    actor_id   UUID,
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX coupon_ledger_coupon ON coupon_ledger (coupon_id, id);

CREATE TABLE promotions (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        JSONB NOT NULL,
    priority    BIGINT NOT NULL,
    exclusive   BOOLEAN NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    audience    TEXT NOT NULL,
    scope       JSONB NOT NULL,
    channels    TEXT NOT NULL,
    store_ids   JSONB NOT NULL,
    ended       BOOLEAN NOT NULL,
    created_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX promotions_ends ON promotions (ends_at);
