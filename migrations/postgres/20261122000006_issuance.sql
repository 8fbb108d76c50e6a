-- Customers, issuals, background jobs and the offer counters issuing needs (PostgreSQL).
CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    identifier_type TEXT NOT NULL CHECK (identifier_type IN ('MOBILE', 'EMAIL', 'EXTERNAL_ID')),
    identifier TEXT NOT NULL,
    first_name TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, identifier_type, identifier)
);

-- Every issue of an offer to a customer (for common codes several customers share a coupon).
CREATE TABLE issuals (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    offer_id BIGINT NOT NULL,
    coupon_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    valid_till DATE,
    source TEXT NOT NULL
);
CREATE INDEX issuals_customer ON issuals(customer_id, offer_id, issued_at);

ALTER TABLE coupons ADD COLUMN redeemed_at TIMESTAMPTZ;
ALTER TABLE coupons ADD COLUMN source TEXT;
CREATE INDEX coupons_customer ON coupons(customer_id) WHERE customer_id IS NOT NULL;

-- Issuing takes unissued coupons in id order from here (no rescans of issued rows).
ALTER TABLE offers ADD COLUMN issue_cursor BIGINT NOT NULL DEFAULT 0;
-- Randomized common codes (COD-4): the fixed part, unique among the org's randomized offers.
ALTER TABLE offers ADD COLUMN random_fixed TEXT;

-- Long jobs (ISS-5): generation, code uploads and bulk issues.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    offer_id BIGINT NOT NULL REFERENCES offers(id),
    kind TEXT NOT NULL CHECK (kind IN ('generate', 'upload_codes', 'bulk_issue')),
    params TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('receiving', 'queued', 'running', 'done', 'failed')),
    file_name TEXT,
    input_bytes BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_until TIMESTAMPTZ,
    summary TEXT,
    error TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX jobs_offer ON jobs(offer_id, id);
CREATE INDEX jobs_status ON jobs(status, id);

-- A job's uploaded input and its result file, in chunks of up to 1 MB.
CREATE TABLE job_files (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('input', 'result')),
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, kind, seq)
);
