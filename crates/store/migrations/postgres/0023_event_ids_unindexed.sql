-- SQLite's 0023 stops indexing the events' ids (a unique index of its own there, ~1 µs of the
-- ingest writer's time per event). PostgreSQL keeps the primary key: its binary COPY fills the
-- index in bulk, and the psql \copy it is measured against writes the same index. This records
-- why the two differ.
COMMENT ON COLUMN customer_events.id IS
    'UUIDv7 made by the application; a primary key here, unindexed on SQLite (migration 0023)';
