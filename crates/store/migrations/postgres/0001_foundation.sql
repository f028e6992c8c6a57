-- Foundation: the chain, regions, stores, staff, tokens, catalog, audit log, outbox and
-- idempotency records. Money is BIGINT 分; ids are UUIDv7.

CREATE TABLE chain (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE regions (
    id          UUID PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE stores (
    id                 UUID PRIMARY KEY,
    region_id          UUID NOT NULL REFERENCES regions (id),
    code               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    address            TEXT NOT NULL,
    lat                DOUBLE PRECISION NOT NULL,
    lng                DOUBLE PRECISION NOT NULL,
    opening_hours      TEXT NOT NULL,
    time_zone          TEXT NOT NULL,
    area_m2            BIGINT NOT NULL,
    delivery_radius_m  BIGINT NOT NULL,
    phone              TEXT,
    status             TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX stores_region ON stores (region_id);

CREATE TABLE staff (
    id               UUID PRIMARY KEY,
    username         TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    phone            TEXT UNIQUE,
    role             TEXT NOT NULL,
    scope_region_id  UUID REFERENCES regions (id),
    scope_store_id   UUID REFERENCES stores (id),
    status           TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_scope_region ON staff (scope_region_id);
CREATE INDEX staff_scope_store ON staff (scope_store_id);

CREATE TABLE tokens (
    id           UUID PRIMARY KEY,
    staff_id     UUID NOT NULL REFERENCES staff (id),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE categories (
    id          UUID PRIMARY KEY,
    parent_id   UUID REFERENCES categories (id),
    -- The parent's id, or the nil UUID for a root: siblings' names are unique.
    parent_key  UUID NOT NULL,
    name        TEXT NOT NULL,
    sort_order  INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (parent_key, name)
);

CREATE TABLE brands (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    logo_url    TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE products (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    category_id  UUID NOT NULL REFERENCES categories (id),
    brand_id     UUID REFERENCES brands (id),
    kind         TEXT NOT NULL,
    description  TEXT,
    images       JSONB NOT NULL,
    status       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX products_category ON products (category_id);
CREATE INDEX products_brand ON products (brand_id);

CREATE TABLE skus (
    id              UUID PRIMARY KEY,
    product_id      UUID NOT NULL REFERENCES products (id),
    code            TEXT NOT NULL UNIQUE,
    barcode         TEXT UNIQUE,
    name            TEXT NOT NULL,
    unit            TEXT NOT NULL,
    sold_by_weight  BOOLEAN NOT NULL,
    attributes      JSONB NOT NULL,
    images          JSONB NOT NULL,
    base_price      BIGINT NOT NULL,
    store_price     BIGINT,
    online_price    BIGINT,
    member_price    BIGINT,
    cost_price      BIGINT,
    online_only     BOOLEAN NOT NULL,
    status          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX skus_product ON skus (product_id);

CREATE TABLE store_skus (
    store_id            UUID NOT NULL REFERENCES stores (id),
    sku_id              UUID NOT NULL REFERENCES skus (id),
    price               BIGINT,
    member_price        BIGINT,
    available_in_store  BOOLEAN NOT NULL,
    available_online    BOOLEAN NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, sku_id)
);

CREATE TABLE audit_log (
    id           UUID PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    actor_id     UUID,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    store_id     UUID,
    ip           TEXT,
    user_agent   TEXT,
    changes      JSONB NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_store ON audit_log (store_id);
CREATE INDEX audit_log_actor ON audit_log (actor_id);

CREATE TABLE events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           UUID NOT NULL UNIQUE,
    at           TIMESTAMPTZ NOT NULL,
    kind         TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    payload      JSONB NOT NULL
);

CREATE TABLE idempotency_keys (
    actor_id     UUID NOT NULL,
    idem_key     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (actor_id, idem_key)
);
