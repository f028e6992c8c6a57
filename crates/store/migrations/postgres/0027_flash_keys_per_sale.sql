-- A flash reservation's request key (`buyer:key`) is unique within its sale, not across every
-- sale: the engine keeps a buyer's keys per sale, so the same buyer and key on two sales are
-- two reservations, and a key unique across sales made materialising the second one fail for
-- good (and every sale after it).
ALTER TABLE flash_sale_reservations DROP CONSTRAINT flash_sale_reservations_idem_key_key;
ALTER TABLE flash_sale_reservations ADD CONSTRAINT flash_sale_reservations_sale_id_idem_key_key UNIQUE (sale_id, idem_key);
-- Reservations of a sale, for an owner loading its book: the unique (sale_id, idem_key) serves.
DROP INDEX flash_sale_reservations_sale;
