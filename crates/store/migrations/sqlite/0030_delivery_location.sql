-- Where a delivery goes, kept on its order for the dispatcher and the rider: the point in GCJ-02
-- (the stores' datum, and what Chinese maps show) whatever datum the caller sent, that datum
-- ('gcj02' or 'wgs84', so a GPS point can be had back), and the rounded metres from the serving
-- store. All four are set together, or none (a delivery given only its address, other channels).
-- REAL is an 8-byte IEEE double: the point reads back exactly as it was written.
ALTER TABLE orders ADD COLUMN delivery_lat REAL;
ALTER TABLE orders ADD COLUMN delivery_lng REAL;
ALTER TABLE orders ADD COLUMN delivery_datum TEXT;
-- SQLite adds no table constraint to an existing table; the last column's CHECK spans all four.
ALTER TABLE orders ADD COLUMN delivery_distance_m BIGINT CHECK (
    (delivery_lat IS NULL) = (delivery_lng IS NULL)
    AND (delivery_lat IS NULL) = (delivery_datum IS NULL)
    AND (delivery_lat IS NULL) = (delivery_distance_m IS NULL)
);
