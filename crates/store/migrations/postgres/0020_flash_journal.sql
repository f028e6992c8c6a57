-- The flash-sale journal: the rush writes one compact record per batch (every reservation the
-- batch made) instead of a row per buyer; reservation rows are materialised from it behind the
-- rush. `journal_seq` on the sale is the last record appended: appending record n + 1 is a
-- compare-and-set on it, so of two instances appending to one sale exactly one succeeds and the
-- other replays what it missed before trying again.

ALTER TABLE flash_sales ADD COLUMN journal_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE flash_sale_journal (
    sale_id       UUID NOT NULL REFERENCES flash_sales (id),
    seq           BIGINT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    reservations  BIGINT NOT NULL,
    units         BIGINT NOT NULL,
    -- quanyu_domain::flash::journal::JournalRecord, version 1.
    payload       BYTEA NOT NULL,
    PRIMARY KEY (sale_id, seq)
);

-- The last journal record whose reservations are rows of flash_sale_reservations (and counted
-- in flash_sale_buyers); moved forward by compare-and-set, in the transaction that writes them.
CREATE TABLE flash_sale_materialized (
    sale_id  UUID PRIMARY KEY REFERENCES flash_sales (id),
    seq      BIGINT NOT NULL
);

-- Every released reservation: the owner's in-memory counts are gross, so before refusing a
-- buyer for the per-customer limit it subtracts what they were given back.
CREATE TABLE flash_sale_releases (
    reservation_id  UUID PRIMARY KEY REFERENCES flash_sale_reservations (id),
    sale_id         UUID NOT NULL REFERENCES flash_sales (id),
    buyer           TEXT NOT NULL,
    quantity        BIGINT NOT NULL
);
CREATE INDEX flash_sale_releases_buyer ON flash_sale_releases (sale_id, buyer);
INSERT INTO flash_sale_releases (reservation_id, sale_id, buyer, quantity)
    SELECT id, sale_id, buyer, quantity FROM flash_sale_reservations WHERE status = 'released';
-- Reservations of a sale, for an owner loading its book.
CREATE INDEX flash_sale_reservations_sale ON flash_sale_reservations (sale_id);
