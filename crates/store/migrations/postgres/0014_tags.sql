-- Tags (标签) and who carries them, the daily counts behind rule tags, and saved audiences (人群)
-- as expressions evaluated live.

CREATE TABLE tags (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    -- manual, imported, rule or computed
    kind         TEXT NOT NULL,
    description  TEXT,
    -- rule tags: {"event", "category_id", "min_count", "window_days"}
    rule         JSONB,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE customer_tags (
    customer_id  UUID NOT NULL REFERENCES customers (id),
    tag_id       UUID NOT NULL REFERENCES tags (id),
    -- who or what put it there: a staff id, import, rule
    source       TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, tag_id)
);
CREATE INDEX customer_tags_tag ON customer_tags (tag_id, customer_id);

CREATE TABLE tag_rule_counts (
    tag_id       UUID NOT NULL REFERENCES tags (id),
    customer_id  UUID NOT NULL REFERENCES customers (id),
    -- days since 1970-01-01 (UTC)
    day          BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (tag_id, customer_id, day)
);

CREATE TABLE audiences (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    expression  TEXT NOT NULL,
    created_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
