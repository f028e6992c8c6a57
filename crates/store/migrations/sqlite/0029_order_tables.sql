-- The table a table order is for (桌号): on every eat-first bill, perhaps on a pay-first order,
-- on no other. Bills opened before this have none.
ALTER TABLE orders ADD COLUMN table_label TEXT;
-- One open eat-first bill per table of a store: a second bill for a table that is still eating
-- is refused, even when two tills open it at the same moment. Also how a store's open bills are
-- listed. Named for its columns, as SQLite reports a broken unique rule
-- (`orders_store_id_table_label`).
CREATE UNIQUE INDEX orders_store_id_table_label_key ON orders (store_id, table_label)
    WHERE channel = 'table_eat_first' AND status = 'created';
