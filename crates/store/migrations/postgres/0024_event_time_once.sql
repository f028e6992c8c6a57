-- An event's `occurred_at` may be NULL, meaning its `received_at` (SQLite's 0025 stores it so, to
-- write each timestamp once per row). PostgreSQL still writes both; readers take `received_at`
-- for a NULL on either backend.
ALTER TABLE customer_events ALTER COLUMN occurred_at DROP NOT NULL;
