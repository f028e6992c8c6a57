-- Paid membership (付费会员): a tier may be bought for a term; a bought tier holds until its term
-- ends, whatever the member's spend.

ALTER TABLE member_tiers ADD COLUMN paid_price BIGINT;
ALTER TABLE member_tiers ADD COLUMN paid_days BIGINT;
-- The tier's birthday right: points given on the member's birthday.
ALTER TABLE member_tiers ADD COLUMN birthday_points BIGINT NOT NULL DEFAULT 0;

CREATE TABLE paid_memberships (
    id           UUID BLOB PRIMARY KEY,
    customer_id  UUID BLOB NOT NULL REFERENCES customers (id),
    tier_id      UUID BLOB NOT NULL REFERENCES member_tiers (id),
    starts_at    TIMESTAMP TEXT NOT NULL,
    ends_at      TIMESTAMP TEXT NOT NULL,
    amount       BIGINT NOT NULL,
    -- cash, card or stored_value
    method       TEXT NOT NULL,
    reference    TEXT,
    idem_key     TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP TEXT NOT NULL
);
CREATE INDEX paid_memberships_customer ON paid_memberships (customer_id, ends_at);
