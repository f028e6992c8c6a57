-- A flash reservation's request key (`buyer:key`) is unique within its sale, not across every
-- sale: the engine keeps a buyer's keys per sale, so the same buyer and key on two sales are
-- two reservations, and a key unique across sales made materialising the second one fail for
-- good (and every sale after it).
--
-- SQLite cannot drop a column's UNIQUE in place: rebuild the table. flash_sale_releases
-- references it, and with foreign keys on, dropping a table other rows reference fails; so the
-- releases are rebuilt too, pointing at the new table, and the old tables dropped child first.
-- Renaming the new reservations table rewrites the releases' reference to the final name.
CREATE TABLE flash_sale_reservations_next (
    id        UUID BLOB PRIMARY KEY,
    sale_id   UUID BLOB NOT NULL REFERENCES flash_sales (id),
    buyer     TEXT NOT NULL,
    quantity  BIGINT NOT NULL,
    idem_key  TEXT NOT NULL,
    at        TIMESTAMP TEXT NOT NULL,
    -- held (stock reserved), ordered (the hold moved to order_id) or released (expired or
    -- the order was cancelled unpaid: stock, quota and the buyer's count given back).
    status      TEXT NOT NULL,
    expires_at  TIMESTAMP TEXT NOT NULL,
    order_id    UUID BLOB,
    UNIQUE (sale_id, idem_key)
);
INSERT INTO flash_sale_reservations_next (id, sale_id, buyer, quantity, idem_key, at, status, expires_at, order_id)
    SELECT id, sale_id, buyer, quantity, idem_key, at, status, expires_at, order_id FROM flash_sale_reservations;

CREATE TABLE flash_sale_releases_next (
    reservation_id  UUID BLOB PRIMARY KEY REFERENCES flash_sale_reservations_next (id),
    sale_id         UUID BLOB NOT NULL REFERENCES flash_sales (id),
    buyer           TEXT NOT NULL,
    quantity        BIGINT NOT NULL
);
INSERT INTO flash_sale_releases_next (reservation_id, sale_id, buyer, quantity)
    SELECT reservation_id, sale_id, buyer, quantity FROM flash_sale_releases;

DROP TABLE flash_sale_releases;
DROP TABLE flash_sale_reservations;
ALTER TABLE flash_sale_reservations_next RENAME TO flash_sale_reservations;
ALTER TABLE flash_sale_releases_next RENAME TO flash_sale_releases;

CREATE INDEX flash_sale_reservations_expiry ON flash_sale_reservations (status, expires_at);
-- Partial: a reservation has no order when it is made, so the rush itself writes nothing here.
CREATE INDEX flash_sale_reservations_order ON flash_sale_reservations (order_id) WHERE order_id IS NOT NULL;
-- Reservations of a sale, for an owner loading its book: the unique (sale_id, idem_key) serves.
CREATE INDEX flash_sale_releases_buyer ON flash_sale_releases (sale_id, buyer);
