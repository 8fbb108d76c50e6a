-- Customers, issuals, background jobs and the offer counters issuing needs (SQLite).
CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    identifier_type TEXT NOT NULL CHECK (identifier_type IN ('MOBILE', 'EMAIL', 'EXTERNAL_ID')),
    identifier TEXT NOT NULL,
    first_name TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, identifier_type, identifier)
);

-- Every issue of an offer to a customer (for common codes several customers share a coupon).
CREATE TABLE issuals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    offer_id INTEGER NOT NULL,
    coupon_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    valid_till TEXT,
    source TEXT NOT NULL
);
CREATE INDEX issuals_customer ON issuals(customer_id, offer_id, issued_at);

ALTER TABLE coupons ADD COLUMN redeemed_at TEXT;
ALTER TABLE coupons ADD COLUMN source TEXT;
CREATE INDEX coupons_customer ON coupons(customer_id) WHERE customer_id IS NOT NULL;

-- Issuing takes unissued coupons in id order from here (no rescans of issued rows).
ALTER TABLE offers ADD COLUMN issue_cursor INTEGER NOT NULL DEFAULT 0;
-- Randomized common codes (COD-4): the fixed part, unique among the org's randomized offers.
ALTER TABLE offers ADD COLUMN random_fixed TEXT;

-- Long jobs (ISS-5): generation, code uploads and bulk issues.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    offer_id INTEGER NOT NULL REFERENCES offers(id),
    kind TEXT NOT NULL CHECK (kind IN ('generate', 'upload_codes', 'bulk_issue')),
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('receiving', 'queued', 'running', 'done', 'failed')),
    file_name TEXT,
    input_bytes INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,
    summary TEXT,
    error TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX jobs_offer ON jobs(offer_id, id);
CREATE INDEX jobs_status ON jobs(status, id);

-- A job's uploaded input and its result file, in chunks of up to 1 MB.
CREATE TABLE job_files (
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('input', 'result')),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, kind, seq)
);
