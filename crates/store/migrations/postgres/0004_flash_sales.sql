-- Flash sales (秒杀): an offer with a quota and a per-customer limit, both enforced by guarded
-- updates so that no interleaving of buyers, batches or instances can exceed them.

CREATE TABLE flash_sales (
    id                  UUID PRIMARY KEY,
    store_id            UUID NOT NULL REFERENCES stores (id),
    sku_id              UUID NOT NULL REFERENCES skus (id),
    price               BIGINT NOT NULL,
    quota               BIGINT NOT NULL,
    sold                BIGINT NOT NULL,
    per_customer_limit  BIGINT NOT NULL,
    hold_minutes        BIGINT NOT NULL,
    starts_at           TIMESTAMPTZ NOT NULL,
    ends_at             TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    CHECK (sold >= 0 AND sold <= quota)
);

CREATE TABLE flash_sale_buyers (
    sale_id   UUID NOT NULL REFERENCES flash_sales (id),
    buyer     TEXT NOT NULL,
    quantity  BIGINT NOT NULL,
    PRIMARY KEY (sale_id, buyer)
);

CREATE TABLE flash_sale_reservations (
    id        UUID PRIMARY KEY,
    sale_id   UUID NOT NULL REFERENCES flash_sales (id),
    buyer     TEXT NOT NULL,
    quantity  BIGINT NOT NULL,
    idem_key  TEXT NOT NULL UNIQUE,
    at        TIMESTAMPTZ NOT NULL,
    -- held (stock reserved), ordered (the hold moved to order_id) or released (expired or
    -- the order was cancelled unpaid: stock, quota and the buyer's count given back).
    status      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    order_id    UUID
);
CREATE INDEX flash_sale_reservations_expiry ON flash_sale_reservations (status, expires_at);
-- Partial: a reservation has no order when it is made, so the rush itself writes nothing here.
CREATE INDEX flash_sale_reservations_order ON flash_sale_reservations (order_id) WHERE order_id IS NOT NULL;
