-- Reversible merges: every row a merge moved from the absorbed profile to the survivor is
-- recorded, so support can undo the merge exactly; an undone merge stays in the books (who undid
-- it, when and why) and the absorbed profile may be merged again later.

-- SQLite cannot drop the UNIQUE (absorbed_id) constraint in place: rebuild the table with a
-- partial unique index over the merges still in force instead.
CREATE TABLE customer_merges_next (
    id           UUID BLOB PRIMARY KEY,
    survivor_id  UUID BLOB NOT NULL REFERENCES customers (id),
    absorbed_id  UUID BLOB NOT NULL REFERENCES customers (id),
    identities   BIGINT NOT NULL,
    reason       TEXT,
    actor_id     UUID BLOB,
    at           TIMESTAMP TEXT NOT NULL,
    -- the survivor's fields the merge filled from the absorbed profile, comma-separated
    filled       TEXT NOT NULL DEFAULT '',
    undone_at    TIMESTAMP TEXT,
    undone_by    UUID BLOB,
    undo_reason  TEXT
);
INSERT INTO customer_merges_next (id, survivor_id, absorbed_id, identities, reason, actor_id, at)
    SELECT id, survivor_id, absorbed_id, identities, reason, actor_id, at FROM customer_merges;
DROP TABLE customer_merges;
ALTER TABLE customer_merges_next RENAME TO customer_merges;
CREATE UNIQUE INDEX customer_merges_in_force ON customer_merges (absorbed_id) WHERE undone_at IS NULL;
CREATE INDEX customer_merges_survivor ON customer_merges (survivor_id);

CREATE TABLE customer_merge_moves (
    merge_id  UUID BLOB NOT NULL REFERENCES customer_merges (id),
    -- identity, order, points, coupon, paid_membership, stored_value, event, anonymous_id,
    -- holding, tag, rule_count, guide_task, birthday
    kind      TEXT NOT NULL,
    -- the moved row's id (or the tag, coupon template)
    row_id    UUID BLOB,
    -- the moved row's text key (identity `kind:value`, anonymous id, tag source, birthday)
    row_key   TEXT,
    -- a count moved (coupons issued, rule hits) or a flag (1: the survivor took it over)
    amount    BIGINT,
    day       BIGINT,
    at        TIMESTAMP TEXT,
    -- a whole row the merge dropped as a duplicate, as JSON
    detail    TEXT
);
CREATE INDEX customer_merge_moves_merge ON customer_merge_moves (merge_id, kind);
