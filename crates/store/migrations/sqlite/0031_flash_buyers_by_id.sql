-- A flash-sale buyer is kept as the member's 16-byte id, and a reservation's key as the buyer's
-- own key: rows used to spell a member out (`customer:<id>`, 45 bytes) and scope the key to that
-- name (`customer:<id>:<key>`), which made turning a rush's journal into rows half as slow again.
--
-- A buyer is two columns, so that every key stays NOT NULL: `member_id` (the member; the nil
-- UUID for a buyer named otherwise, from before every buyer was a member) and `buyer` (that
-- name; '' for a member). The unique key is the sale, the buyer and the buyer's own key.
--
-- SQLite cannot change a table's keys in place: the three tables are rebuilt (the releases
-- child first, as in 0028). A member's name becomes their id when it is exactly the name
-- `quanyu_domain::flash::member_buyer` writes, and a key scoped to its buyer loses the scope.

CREATE TABLE flash_sale_reservations_next (
    id         UUID BLOB PRIMARY KEY,
    sale_id    UUID BLOB NOT NULL REFERENCES flash_sales (id),
    member_id  UUID BLOB NOT NULL,
    buyer      TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    -- The buyer's own request key.
    idem_key   TEXT NOT NULL,
    at         TIMESTAMP TEXT NOT NULL,
    -- held (stock reserved), ordered (the hold moved to order_id) or released (expired or
    -- the order was cancelled unpaid: stock, quota and the buyer's count given back).
    status      TEXT NOT NULL,
    expires_at  TIMESTAMP TEXT NOT NULL,
    order_id    UUID BLOB,
    UNIQUE (sale_id, member_id, buyer, idem_key)
);

CREATE TABLE flash_sale_releases_next (
    reservation_id  UUID BLOB PRIMARY KEY REFERENCES flash_sale_reservations_next (id),
    sale_id         UUID BLOB NOT NULL REFERENCES flash_sales (id),
    member_id       UUID BLOB NOT NULL,
    buyer           TEXT NOT NULL,
    quantity        BIGINT NOT NULL
);

CREATE TABLE flash_sale_buyers_next (
    sale_id    UUID BLOB NOT NULL REFERENCES flash_sales (id),
    member_id  UUID BLOB NOT NULL,
    buyer      TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    PRIMARY KEY (sale_id, member_id, buyer)
);

-- Each buyer name once, with the member it is (if it is exactly a member's name).
CREATE TEMP TABLE flash_buyer_names AS
    SELECT name,
           CASE WHEN name GLOB 'customer:[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
                THEN unhex(replace(substr(name, 10), '-', '')) END AS member_id
    FROM (SELECT buyer AS name FROM flash_sale_reservations
          UNION SELECT buyer FROM flash_sale_buyers
          UNION SELECT buyer FROM flash_sale_releases);

INSERT INTO flash_sale_reservations_next
    (id, sale_id, member_id, buyer, quantity, idem_key, at, status, expires_at, order_id)
    SELECT r.id, r.sale_id, coalesce(n.member_id, zeroblob(16)), CASE WHEN n.member_id IS NULL THEN r.buyer ELSE '' END,
           r.quantity,
           CASE WHEN substr(r.idem_key, 1, length(r.buyer) + 1) = r.buyer || ':'
                THEN substr(r.idem_key, length(r.buyer) + 2) ELSE r.idem_key END,
           r.at, r.status, r.expires_at, r.order_id
    FROM flash_sale_reservations r JOIN flash_buyer_names n ON n.name = r.buyer;

INSERT INTO flash_sale_releases_next (reservation_id, sale_id, member_id, buyer, quantity)
    SELECT r.reservation_id, r.sale_id, coalesce(n.member_id, zeroblob(16)),
           CASE WHEN n.member_id IS NULL THEN r.buyer ELSE '' END, r.quantity
    FROM flash_sale_releases r JOIN flash_buyer_names n ON n.name = r.buyer;

INSERT INTO flash_sale_buyers_next (sale_id, member_id, buyer, quantity)
    SELECT b.sale_id, coalesce(n.member_id, zeroblob(16)), CASE WHEN n.member_id IS NULL THEN b.buyer ELSE '' END,
           b.quantity
    FROM flash_sale_buyers b JOIN flash_buyer_names n ON n.name = b.buyer;

DROP TABLE flash_buyer_names;
DROP TABLE flash_sale_releases;
DROP TABLE flash_sale_reservations;
DROP TABLE flash_sale_buyers;
ALTER TABLE flash_sale_reservations_next RENAME TO flash_sale_reservations;
ALTER TABLE flash_sale_releases_next RENAME TO flash_sale_releases;
ALTER TABLE flash_sale_buyers_next RENAME TO flash_sale_buyers;

CREATE INDEX flash_sale_reservations_expiry ON flash_sale_reservations (status, expires_at);
-- Partial: a reservation has no order when it is made, so the rush itself writes nothing here.
CREATE INDEX flash_sale_reservations_order ON flash_sale_reservations (order_id) WHERE order_id IS NOT NULL;
-- Reservations of a sale, for an owner loading its book: the unique key's first column serves.
CREATE INDEX flash_sale_releases_buyer ON flash_sale_releases (sale_id, member_id, buyer);
