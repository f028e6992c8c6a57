-- Stock documents (单据): purchase orders, requisitions, transfers, stocktakes and loss reports,
-- with their lines and status timeline; reorder settings per store and SKU; and the kind of a
-- location (store or warehouse).

ALTER TABLE stores ADD COLUMN kind TEXT NOT NULL DEFAULT 'store';

CREATE TABLE stock_documents (
    id               UUID PRIMARY KEY,
    kind             TEXT NOT NULL,
    number           TEXT NOT NULL UNIQUE,
    store_id         UUID NOT NULL REFERENCES stores (id),
    source_store_id  UUID REFERENCES stores (id),
    supplier         TEXT,
    status           TEXT NOT NULL,
    revision         BIGINT NOT NULL,
    note             TEXT,
    created_by       UUID,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX stock_documents_store ON stock_documents (store_id, id);
CREATE INDEX stock_documents_source ON stock_documents (source_store_id, id);

CREATE TABLE stock_document_lines (
    document_id  UUID NOT NULL REFERENCES stock_documents (id),
    line_no      INTEGER NOT NULL,
    sku_id       UUID NOT NULL REFERENCES skus (id),
    quantity     BIGINT NOT NULL,
    approved     BIGINT,
    shipped      BIGINT,
    received     BIGINT NOT NULL,
    counted      BIGINT,
    book         BIGINT,
    reason       TEXT,
    PRIMARY KEY (document_id, line_no)
);

CREATE TABLE stock_document_steps (
    id           UUID PRIMARY KEY,
    document_id  UUID NOT NULL REFERENCES stock_documents (id),
    event        TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    actor_id     UUID,
    note         TEXT,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX stock_document_steps_document ON stock_document_steps (document_id, id);

CREATE TABLE stock_policies (
    store_id       UUID NOT NULL REFERENCES stores (id),
    sku_id         UUID NOT NULL REFERENCES skus (id),
    reorder_point  BIGINT NOT NULL,
    target         BIGINT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, sku_id),
    CHECK (reorder_point >= 0 AND target > reorder_point)
);
