-- Customer sign-in by phone and one-time code (H5 mall), and customer sessions. Only hashes of
-- codes and session secrets are stored.

-- One active code per phone: a new code replaces the old row.
CREATE TABLE customer_login_codes (
    phone        TEXT PRIMARY KEY,
    -- Hex SHA-256 of salt and code.
    code_hash    TEXT NOT NULL,
    salt         TEXT NOT NULL,
    -- Checks made against this code (each consumes one).
    attempts     INTEGER NOT NULL,
    sent_at      TIMESTAMP TEXT NOT NULL,
    expires_at   TIMESTAMP TEXT NOT NULL
);

CREATE TABLE customer_sessions (
    id           UUID BLOB PRIMARY KEY,
    customer_id  UUID BLOB NOT NULL REFERENCES customers (id),
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP TEXT NOT NULL,
    expires_at   TIMESTAMP TEXT NOT NULL,
    revoked_at   TIMESTAMP TEXT
);
CREATE INDEX customer_sessions_customer ON customer_sessions (customer_id);
