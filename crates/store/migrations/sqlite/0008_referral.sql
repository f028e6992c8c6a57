-- Referral and distribution: promoter profiles with their invite codes, referrals (who invited
-- whom), the order attributions that commission and guide sales follow, the commission ledger
-- with its per-promoter balances (four buckets: frozen, available, pending payout, paid out),
-- payout requests, the guide-sales ledger, invite tasks (任务宝) and the marketing settings
-- (the referral programme and the commission rules, as JSON in the shape of the domain's types).

CREATE TABLE promoters (
    id           UUID BLOB PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    customer_id  UUID BLOB UNIQUE REFERENCES customers (id),
    staff_id     UUID BLOB UNIQUE REFERENCES staff (id),
    name         TEXT NOT NULL,
    distributor  BOOLEAN NOT NULL,
    parent_id    UUID BLOB REFERENCES promoters (id),
    created_at   TIMESTAMP TEXT NOT NULL,
    updated_at   TIMESTAMP TEXT NOT NULL,
    CHECK ((customer_id IS NULL) <> (staff_id IS NULL))
);
CREATE INDEX promoters_parent ON promoters (parent_id);

CREATE TABLE referrals (
    id           UUID BLOB PRIMARY KEY,
    promoter_id  UUID BLOB NOT NULL REFERENCES promoters (id),
    invitee_id   UUID BLOB NOT NULL UNIQUE REFERENCES customers (id),
    device_id    TEXT,
    -- NULL when the referral counts; self_invite, not_new or same_device otherwise
    refusal      TEXT,
    at           TIMESTAMP TEXT NOT NULL
);
CREATE INDEX referrals_promoter ON referrals (promoter_id, at);
CREATE INDEX referrals_device ON referrals (device_id);

CREATE TABLE order_attributions (
    order_id     UUID BLOB PRIMARY KEY REFERENCES orders (id),
    promoter_id  UUID BLOB REFERENCES promoters (id),
    parent_id    UUID BLOB REFERENCES promoters (id),
    guide_id     UUID BLOB REFERENCES staff (id),
    -- link (a share link) or binding (the buyer's inviter)
    source       TEXT NOT NULL
);
CREATE INDEX order_attributions_promoter ON order_attributions (promoter_id);

CREATE TABLE promoter_balances (
    promoter_id  UUID BLOB PRIMARY KEY REFERENCES promoters (id),
    frozen       BIGINT NOT NULL,
    available    BIGINT NOT NULL,
    pending      BIGINT NOT NULL,
    paid_out     BIGINT NOT NULL,
    updated_at   TIMESTAMP TEXT NOT NULL,
    CHECK (frozen >= 0 AND pending >= 0 AND paid_out >= 0)
);

CREATE TABLE commission_ledger (
    id           UUID BLOB PRIMARY KEY,
    promoter_id  UUID BLOB NOT NULL REFERENCES promoters (id),
    -- accrue, reverse, release, request_payout, pay_out, reject_payout
    kind         TEXT NOT NULL,
    order_id     UUID BLOB,
    line_no      BIGINT,
    level        BIGINT,
    payout_id    UUID BLOB,
    frozen       BIGINT NOT NULL,
    available    BIGINT NOT NULL,
    pending      BIGINT NOT NULL,
    paid_out     BIGINT NOT NULL,
    -- accrue entries: when the return window ends
    release_at   TIMESTAMP TEXT,
    idem_key     TEXT NOT NULL UNIQUE,
    at           TIMESTAMP TEXT NOT NULL
);
CREATE INDEX commission_ledger_promoter ON commission_ledger (promoter_id, id);
CREATE INDEX commission_ledger_order ON commission_ledger (order_id, promoter_id);
CREATE INDEX commission_ledger_release ON commission_ledger (release_at) WHERE release_at IS NOT NULL;

CREATE TABLE payout_requests (
    id            UUID BLOB PRIMARY KEY,
    promoter_id   UUID BLOB NOT NULL REFERENCES promoters (id),
    amount        BIGINT NOT NULL,
    status        TEXT NOT NULL,
    note          TEXT,
    requested_at  TIMESTAMP TEXT NOT NULL,
    settled_at    TIMESTAMP TEXT
);
CREATE INDEX payout_requests_promoter ON payout_requests (promoter_id, id);

CREATE TABLE guide_sales (
    id        UUID BLOB PRIMARY KEY,
    guide_id  UUID BLOB NOT NULL REFERENCES staff (id),
    order_id  UUID BLOB NOT NULL REFERENCES orders (id),
    -- sale or refund
    kind      TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    idem_key  TEXT NOT NULL UNIQUE,
    at        TIMESTAMP TEXT NOT NULL
);
CREATE INDEX guide_sales_guide ON guide_sales (guide_id, at);

CREATE TABLE invite_tasks (
    id                  UUID BLOB PRIMARY KEY,
    name                TEXT NOT NULL,
    invites_needed      BIGINT NOT NULL,
    starts_at           TIMESTAMP TEXT NOT NULL,
    ends_at             TIMESTAMP TEXT NOT NULL,
    reward_points       BIGINT NOT NULL,
    reward_template_id  UUID BLOB REFERENCES coupon_templates (id),
    created_at          TIMESTAMP TEXT NOT NULL
);

CREATE TABLE invite_task_rewards (
    task_id      UUID BLOB NOT NULL REFERENCES invite_tasks (id),
    promoter_id  UUID BLOB NOT NULL REFERENCES promoters (id),
    at           TIMESTAMP TEXT NOT NULL,
    PRIMARY KEY (task_id, promoter_id)
);

CREATE TABLE marketing_settings (
    name        TEXT PRIMARY KEY,
    value       JSON TEXT NOT NULL,
    updated_at  TIMESTAMP TEXT NOT NULL
);
