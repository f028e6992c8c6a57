-- A store that moves to another region or changes its code changes what the audience index reads
-- for every customer whose home store it is (their `region`, their `home_store`); a region that
-- changes its code, for every customer of its stores. The log names each of them, so no member's
-- attributes depend on anything the log does not cover. Tiers and tags are never renamed.
CREATE TRIGGER audience_store_changed AFTER UPDATE OF region_id, code ON stores
WHEN OLD.region_id IS NOT NEW.region_id OR OLD.code IS NOT NEW.code
BEGIN INSERT INTO audience_changes (customer_id) SELECT id FROM customers WHERE home_store_id = NEW.id; END;
CREATE TRIGGER audience_region_changed AFTER UPDATE OF code ON regions
WHEN OLD.code IS NOT NEW.code
BEGIN
    INSERT INTO audience_changes (customer_id)
    SELECT c.id FROM customers c JOIN stores s ON s.id = c.home_store_id WHERE s.region_id = NEW.id;
END;
