-- Customer events (the Segment / RudderStack HTTP spec): the sources that send them (a write key
-- each, stored as its SHA-256), the customer events deduplicated per source by messageId, and the
-- anonymous ids stitched to customers. Payloads are JSON text, checked at the edge.

CREATE TABLE event_sources (
    id          UUID BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    created_by  UUID BLOB,
    created_at  TIMESTAMP TEXT NOT NULL,
    revoked_at  TIMESTAMP TEXT
);

CREATE TABLE customer_events (
    id            UUID BLOB PRIMARY KEY,
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
CREATE INDEX customer_events_customer ON customer_events (customer_id, id);
CREATE INDEX customer_events_anonymous ON customer_events (anonymous_id);

CREATE TABLE anonymous_ids (
    anonymous_id  TEXT PRIMARY KEY,
    customer_id   UUID BLOB NOT NULL REFERENCES customers (id),
    at            TIMESTAMP TEXT NOT NULL
);
