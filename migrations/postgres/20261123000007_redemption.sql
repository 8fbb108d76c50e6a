-- API keys, redemptions and the counters redemption guards (PostgreSQL).
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    -- The first characters of the key, shown in lists so people can tell keys apart.
    key_prefix TEXT NOT NULL,
    -- SHA-256 (hex) of the whole key; the key itself is never stored.
    key_hash TEXT NOT NULL UNIQUE,
    consumer_id BIGINT REFERENCES consumers(id),
    rate_limit BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_keys_org ON api_keys(org_id, id);

-- One row per redeemed code of a transaction (RED-2); idempotent on (transaction, code).
CREATE TABLE redemptions (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    offer_id BIGINT NOT NULL,
    coupon_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    customer_id BIGINT,
    transaction_number TEXT NOT NULL,
    store_id BIGINT,
    till_id BIGINT,
    bill_amount BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    redeemed_at TIMESTAMPTZ NOT NULL,
    api_key_id BIGINT,
    consumer_id BIGINT,
    reversed_at TIMESTAMPTZ,
    UNIQUE (org_id, transaction_number, code)
);
CREATE INDEX redemptions_offer ON redemptions(offer_id, redeemed_at);
CREATE INDEX redemptions_coupon ON redemptions(coupon_id);

-- A customer's redemptions of an offer: the guarded row for per-customer max and gap days.
CREATE TABLE customer_redemptions (
    offer_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    redeem_count BIGINT NOT NULL,
    last_redeemed_on DATE,
    PRIMARY KEY (offer_id, customer_id)
);

-- Redemption counts of offers without a total cap, spread over a few rows so that concurrent
-- redemptions of one offer do not queue on one row. Capped offers count on offers.redeemed_count.
CREATE TABLE offer_counters (
    offer_id BIGINT NOT NULL,
    shard BIGINT NOT NULL,
    redeemed BIGINT NOT NULL,
    last_redeemed_at TIMESTAMPTZ,
    PRIMARY KEY (offer_id, shard)
);

-- The Performance tab counts issues per day of an offer.
CREATE INDEX issuals_offer_time ON issuals(offer_id, issued_at);
