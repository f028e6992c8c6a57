-- Orders: lines with their price breakdown, the status timeline, and payments and refunds.

CREATE TABLE orders (
    id                UUID BLOB PRIMARY KEY,
    store_id          UUID BLOB NOT NULL REFERENCES stores (id),
    channel           TEXT NOT NULL,
    status            TEXT NOT NULL,
    pickup_code       TEXT,
    customer_phone    TEXT,
    delivery_address  TEXT,
    note              TEXT,
    subtotal          BIGINT NOT NULL,
    discount          BIGINT NOT NULL,
    delivery_fee      BIGINT NOT NULL,
    total             BIGINT NOT NULL,
    paid              BIGINT NOT NULL,
    refunded          BIGINT NOT NULL,
    hold_expires_at   TIMESTAMP TEXT,
    promised_at       TIMESTAMP TEXT,
    fulfilled_at      TIMESTAMP TEXT,
    created_by        UUID BLOB,
    created_at        TIMESTAMP TEXT NOT NULL,
    updated_at        TIMESTAMP TEXT NOT NULL
);
CREATE INDEX orders_store ON orders (store_id, id);
CREATE INDEX orders_hold ON orders (status, hold_expires_at);

CREATE TABLE order_lines (
    order_id           UUID BLOB NOT NULL REFERENCES orders (id),
    line_no            INTEGER NOT NULL,
    sku_id             UUID BLOB NOT NULL REFERENCES skus (id),
    sku_name           TEXT NOT NULL,
    quantity           BIGINT NOT NULL,
    unit_price         BIGINT NOT NULL,
    sold_by_weight     BOOLEAN NOT NULL,
    base_amount        BIGINT NOT NULL,
    adjustments        JSON TEXT NOT NULL,
    amount             BIGINT NOT NULL,
    refunded_quantity  BIGINT NOT NULL,
    refunded_amount    BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_timeline (
    id           UUID BLOB PRIMARY KEY,
    order_id     UUID BLOB NOT NULL REFERENCES orders (id),
    event        TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    actor_id     UUID BLOB,
    note         TEXT,
    at           TIMESTAMP TEXT NOT NULL
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, id);

CREATE TABLE payments (
    id         UUID BLOB PRIMARY KEY,
    order_id   UUID BLOB NOT NULL REFERENCES orders (id),
    kind       TEXT NOT NULL,
    method     TEXT NOT NULL,
    amount     BIGINT NOT NULL,
    reference  TEXT,
    at         TIMESTAMP TEXT NOT NULL
);
CREATE INDEX payments_order ON payments (order_id, id);
