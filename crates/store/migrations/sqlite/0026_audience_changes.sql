-- Which customers changed what the audience index reads (their tier, home store, merge, points,
-- scores and tags), written by triggers in the transaction of the change, so every write path is
-- covered and none can forget. Each instance's index reads the log after its cursor (`seq`:
-- SQLite has one writer, so sequence order is commit order) and reloads just those customers,
-- instead of every member. Old entries are pruned by the sweeper (`at`, Unix seconds).
CREATE TABLE audience_changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  UUID BLOB NOT NULL,
    -- PostgreSQL's transaction id there; 0 here, where `seq` alone orders the log.
    xid          BIGINT NOT NULL DEFAULT 0,
    at           BIGINT NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX audience_changes_at ON audience_changes (at);

CREATE TRIGGER audience_customer_inserted AFTER INSERT ON customers
BEGIN INSERT INTO audience_changes (customer_id) VALUES (NEW.id); END;
CREATE TRIGGER audience_customer_updated AFTER UPDATE OF tier_id, home_store_id, merged_into ON customers
BEGIN INSERT INTO audience_changes (customer_id) VALUES (NEW.id); END;
CREATE TRIGGER audience_points_inserted AFTER INSERT ON customer_points
BEGIN INSERT INTO audience_changes (customer_id) VALUES (NEW.customer_id); END;
CREATE TRIGGER audience_points_updated AFTER UPDATE OF balance ON customer_points
BEGIN INSERT INTO audience_changes (customer_id) VALUES (NEW.customer_id); END;
CREATE TRIGGER audience_scores_inserted AFTER INSERT ON customer_scores
BEGIN INSERT INTO audience_changes (customer_id) VALUES (NEW.customer_id); END;
CREATE TRIGGER audience_scores_updated AFTER UPDATE ON customer_scores
BEGIN INSERT INTO audience_changes (customer_id) VALUES (NEW.customer_id); END;
CREATE TRIGGER audience_tag_added AFTER INSERT ON customer_tags
BEGIN INSERT INTO audience_changes (customer_id) VALUES (NEW.customer_id); END;
CREATE TRIGGER audience_tag_removed AFTER DELETE ON customer_tags
BEGIN INSERT INTO audience_changes (customer_id) VALUES (OLD.customer_id); END;
CREATE TRIGGER audience_tag_moved AFTER UPDATE OF customer_id ON customer_tags
BEGIN
    INSERT INTO audience_changes (customer_id) VALUES (OLD.customer_id);
    INSERT INTO audience_changes (customer_id) VALUES (NEW.customer_id);
END;
