-- Inventory (进销存): stock levels per store and SKU, and the append-only ledger whose sums they
-- always equal. The CHECK is the last line of defence against overselling; the guarded update
-- in the store adapter refuses such a change before it reaches it.

CREATE TABLE stock_levels (
    store_id     UUID BLOB NOT NULL REFERENCES stores (id),
    sku_id       UUID BLOB NOT NULL REFERENCES skus (id),
    on_hand      BIGINT NOT NULL,
    reserved     BIGINT NOT NULL,
    committed    BIGINT NOT NULL,
    unavailable  BIGINT NOT NULL,
    in_transit   BIGINT NOT NULL,
    updated_at   TIMESTAMP TEXT NOT NULL,
    PRIMARY KEY (store_id, sku_id),
    CHECK (on_hand >= 0 AND reserved >= 0 AND committed >= 0 AND unavailable >= 0 AND in_transit >= 0
           AND reserved + committed + unavailable <= on_hand)
);

CREATE TABLE stock_ledger (
    id                 UUID BLOB PRIMARY KEY,
    store_id           UUID BLOB NOT NULL,
    sku_id             UUID BLOB NOT NULL,
    change             TEXT NOT NULL,
    delta_on_hand      BIGINT NOT NULL,
    delta_reserved     BIGINT NOT NULL,
    delta_committed    BIGINT NOT NULL,
    delta_unavailable  BIGINT NOT NULL,
    delta_in_transit   BIGINT NOT NULL,
    reason             TEXT,
    reference          TEXT,
    idem_key           TEXT NOT NULL UNIQUE,
    actor_id           UUID BLOB,
    at                 TIMESTAMP TEXT NOT NULL,
    FOREIGN KEY (store_id, sku_id) REFERENCES stock_levels (store_id, sku_id)
);
CREATE INDEX stock_ledger_item ON stock_ledger (store_id, sku_id, id);
