-- Event ingest writes fewer index entries per event. The timeline reads a customer's events,
-- so only events that have a customer are indexed by customer; stitching looks for an anonymous
-- id's events that have no customer yet, so only those are indexed by anonymous id (an event
-- leaves that index when stitching gives it its customer). Both queries name the index's
-- condition (`customer_id = $1`, `… AND customer_id IS NULL`), so the planner still uses them.
DROP INDEX customer_events_customer;
CREATE INDEX customer_events_customer ON customer_events (customer_id, id) WHERE customer_id IS NOT NULL;
DROP INDEX customer_events_anonymous;
CREATE INDEX customer_events_anonymous ON customer_events (anonymous_id) WHERE customer_id IS NULL;
