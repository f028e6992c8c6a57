-- Stitching finds the events an anonymous id sent before it was tied to a customer. Those
-- events were indexed by anonymous id as they were inserted, and real anonymous ids are random
-- (an SDK makes a UUID per visitor), so each event's index entry landed on a page of its own and
-- every commit wrote a page of the log per event: ~10 KB per event, 58-73k events/s instead of
-- ~260k without the index (wrk, random visitors, measured). That index is replaced by
-- `anonymous_event_index`, which the writer fills in bulk, sorted, every few hundred
-- thousand events (`sqlite::anonymous_index`); the newest events are found in memory until then.
--
-- Its entries name events by `seq`, an explicit INTEGER PRIMARY KEY (the rowid, which VACUUM
-- could otherwise renumber), and visitors by a 64-bit hash of their anonymous id: eight bytes
-- instead of a 36-character UUID, a third of the pages to write. The index starts empty: the
-- writer finds the unowned events of an existing file on its first write and indexes them.
CREATE TABLE customer_events_new (
    seq           INTEGER PRIMARY KEY,
    id            UUID BLOB NOT NULL,
    source_id     UUID BLOB NOT NULL REFERENCES event_sources (id),
    message_id    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    name          TEXT,
    user_id       TEXT,
    anonymous_id  TEXT,
    previous_id   TEXT,
    customer_id   UUID BLOB,
    properties    TEXT NOT NULL,
    traits        TEXT NOT NULL,
    context       TEXT NOT NULL,
    occurred_at   TIMESTAMP TEXT NOT NULL,
    received_at   TIMESTAMP TEXT NOT NULL,
    UNIQUE (source_id, message_id)
);
INSERT INTO customer_events_new (id, source_id, message_id, kind, name, user_id, anonymous_id, previous_id,
    customer_id, properties, traits, context, occurred_at, received_at)
SELECT id, source_id, message_id, kind, name, user_id, anonymous_id, previous_id, customer_id, properties,
    traits, context, occurred_at, received_at
FROM customer_events ORDER BY rowid;
DROP TABLE customer_events;
ALTER TABLE customer_events_new RENAME TO customer_events;
CREATE INDEX customer_events_customer ON customer_events (customer_id, id) WHERE customer_id IS NOT NULL;

CREATE TABLE anonymous_event_index (
    visitor  INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (visitor, seq)
) WITHOUT ROWID;
