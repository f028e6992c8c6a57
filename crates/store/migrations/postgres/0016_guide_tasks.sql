-- Follow-up tasks for guides (跟进任务): a customer to contact, handed over from a saved audience.

CREATE TABLE guide_tasks (
    id           UUID PRIMARY KEY,
    guide_id     UUID NOT NULL REFERENCES staff (id),
    customer_id  UUID NOT NULL REFERENCES customers (id),
    audience_id  UUID NOT NULL REFERENCES audiences (id),
    title        TEXT NOT NULL,
    -- open or done
    status       TEXT NOT NULL,
    note         TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    done_at      TIMESTAMPTZ,
    UNIQUE (guide_id, customer_id, audience_id)
);
CREATE INDEX guide_tasks_guide ON guide_tasks (guide_id, status, id);
