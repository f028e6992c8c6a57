-- Customers' birthdays, for the birthday gift: found by month and day.

CREATE TABLE customer_birthdays (
    customer_id  UUID BLOB PRIMARY KEY REFERENCES customers (id),
    month        BIGINT NOT NULL,
    day          BIGINT NOT NULL,
    year         BIGINT
);
CREATE INDEX customer_birthdays_day ON customer_birthdays (month, day, customer_id);
