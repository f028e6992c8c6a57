-- Sales reports read paid orders by creation time within a window.

CREATE INDEX orders_paid_created ON orders (created_at) WHERE paid > 0;
