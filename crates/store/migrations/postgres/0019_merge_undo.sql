-- Reversible merges: every row a merge moved from the absorbed profile to the survivor is
-- recorded, so support can undo the merge exactly; an undone merge stays in the books (who undid
-- it, when and why) and the absorbed profile may be merged again later.

ALTER TABLE customer_merges DROP CONSTRAINT customer_merges_absorbed_id_key;
-- the survivor's fields the merge filled from the absorbed profile, comma-separated
ALTER TABLE customer_merges ADD COLUMN filled TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_merges ADD COLUMN undone_at TIMESTAMPTZ;
ALTER TABLE customer_merges ADD COLUMN undone_by UUID;
ALTER TABLE customer_merges ADD COLUMN undo_reason TEXT;
CREATE UNIQUE INDEX customer_merges_in_force ON customer_merges (absorbed_id) WHERE undone_at IS NULL;
CREATE INDEX customer_merges_survivor ON customer_merges (survivor_id);

CREATE TABLE customer_merge_moves (
    merge_id  UUID NOT NULL REFERENCES customer_merges (id),
    -- identity, order, points, coupon, paid_membership, stored_value, event, anonymous_id,
    -- holding, tag, rule_count, guide_task, birthday
    kind      TEXT NOT NULL,
    -- the moved row's id (or the tag, coupon template)
    row_id    UUID,
    -- the moved row's text key (identity `kind:value`, anonymous id, tag source, birthday)
    row_key   TEXT,
    -- a count moved (coupons issued, rule hits) or a flag (1: the survivor took it over)
    amount    BIGINT,
    day       BIGINT,
    at        TIMESTAMPTZ,
    -- a whole row the merge dropped as a duplicate, as JSON
    detail    TEXT
);
CREATE INDEX customer_merge_moves_merge ON customer_merge_moves (merge_id, kind);
