-- A flash-sale buyer is kept as the member's 16-byte id, and a reservation's key as the buyer's
-- own key: rows used to spell a member out (`customer:<id>`, 45 bytes) and scope the key to that
-- name (`customer:<id>:<key>`), which made turning a rush's journal into rows half as slow again.
--
-- A buyer is two columns, so that every key stays NOT NULL: `member_id` (the member; the nil
-- UUID for a buyer named otherwise, from before every buyer was a member) and `buyer` (that
-- name; '' for a member). The unique key is the sale, the buyer and the buyer's own key.
-- A member's name becomes their id when it is exactly the name
-- `quanyu_domain::flash::member_buyer` writes, and a key scoped to its buyer loses the scope.

ALTER TABLE flash_sale_reservations ADD COLUMN member_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE flash_sale_releases ADD COLUMN member_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE flash_sale_buyers ADD COLUMN member_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';

-- The old keys go first: a member's name becomes '' and keys lose their scope, so rows the
-- old keys told apart are told apart by the new ones only.
ALTER TABLE flash_sale_reservations DROP CONSTRAINT flash_sale_reservations_sale_id_idem_key_key;
ALTER TABLE flash_sale_buyers DROP CONSTRAINT flash_sale_buyers_pkey;
DROP INDEX flash_sale_releases_buyer;

UPDATE flash_sale_reservations
    SET idem_key = CASE WHEN starts_with(idem_key, buyer || ':') THEN substr(idem_key, length(buyer) + 2) ELSE idem_key END,
        member_id = CAST(substr(buyer, 10) AS UUID), buyer = ''
    WHERE buyer ~ '^customer:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
UPDATE flash_sale_reservations
    SET idem_key = substr(idem_key, length(buyer) + 2)
    WHERE buyer <> '' AND starts_with(idem_key, buyer || ':');
UPDATE flash_sale_releases SET member_id = CAST(substr(buyer, 10) AS UUID), buyer = ''
    WHERE buyer ~ '^customer:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
UPDATE flash_sale_buyers SET member_id = CAST(substr(buyer, 10) AS UUID), buyer = ''
    WHERE buyer ~ '^customer:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

ALTER TABLE flash_sale_reservations ALTER COLUMN member_id DROP DEFAULT;
ALTER TABLE flash_sale_releases ALTER COLUMN member_id DROP DEFAULT;
ALTER TABLE flash_sale_buyers ALTER COLUMN member_id DROP DEFAULT;

ALTER TABLE flash_sale_reservations ADD CONSTRAINT flash_sale_reservations_sale_id_member_id_buyer_idem_key_key
    UNIQUE (sale_id, member_id, buyer, idem_key);
ALTER TABLE flash_sale_buyers ADD PRIMARY KEY (sale_id, member_id, buyer);
CREATE INDEX flash_sale_releases_buyer ON flash_sale_releases (sale_id, member_id, buyer);
