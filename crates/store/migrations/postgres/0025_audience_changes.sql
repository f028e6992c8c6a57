-- Which customers changed what the audience index reads (their tier, home store, merge, points,
-- scores and tags), written by triggers in the transaction of the change, so every write path is
-- covered and none can forget. Each instance's index reloads just those customers instead of
-- every member. Transactions commit out of sequence order here, so an entry carries its
-- transaction's id: a reader takes every visible entry of a transaction not finished before its
-- last read's snapshot (`pg_snapshot_xmin`), which can repeat an entry (reloading a customer
-- twice is harmless) but never misses one. Old entries are pruned by the sweeper (`at`, Unix seconds).
CREATE TABLE audience_changes (
    seq          BIGSERIAL PRIMARY KEY,
    customer_id  UUID NOT NULL,
    xid          BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    at           BIGINT NOT NULL DEFAULT (extract(epoch FROM now())::bigint)
);
CREATE INDEX audience_changes_xid ON audience_changes (xid);
CREATE INDEX audience_changes_at ON audience_changes (at);

CREATE FUNCTION audience_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'customers' THEN
        INSERT INTO audience_changes (customer_id) VALUES (NEW.id);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audience_changes (customer_id) VALUES (OLD.customer_id);
    ELSE
        IF TG_OP = 'UPDATE' AND OLD.customer_id IS DISTINCT FROM NEW.customer_id THEN
            INSERT INTO audience_changes (customer_id) VALUES (OLD.customer_id);
        END IF;
        INSERT INTO audience_changes (customer_id) VALUES (NEW.customer_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER audience_customer_changed AFTER INSERT OR UPDATE OF tier_id, home_store_id, merged_into ON customers
    FOR EACH ROW EXECUTE FUNCTION audience_changed();
CREATE TRIGGER audience_points_changed AFTER INSERT OR UPDATE OF balance ON customer_points
    FOR EACH ROW EXECUTE FUNCTION audience_changed();
CREATE TRIGGER audience_scores_changed AFTER INSERT OR UPDATE ON customer_scores
    FOR EACH ROW EXECUTE FUNCTION audience_changed();
CREATE TRIGGER audience_tags_changed AFTER INSERT OR UPDATE OR DELETE ON customer_tags
    FOR EACH ROW EXECUTE FUNCTION audience_changed();
