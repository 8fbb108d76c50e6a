-- API keys, redemptions and the counters redemption guards (SQLite).
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    -- The first characters of the key, shown in lists so people can tell keys apart.
    key_prefix TEXT NOT NULL,
    -- SHA-256 (hex) of the whole key; the key itself is never stored.
    key_hash TEXT NOT NULL UNIQUE,
    consumer_id INTEGER REFERENCES consumers(id),
    rate_limit INTEGER NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE INDEX api_keys_org ON api_keys(org_id, id);

-- One row per redeemed code of a transaction (RED-2); idempotent on (transaction, code).
CREATE TABLE redemptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    offer_id INTEGER NOT NULL,
    coupon_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    customer_id INTEGER,
    transaction_number TEXT NOT NULL,
    store_id INTEGER,
    till_id INTEGER,
    bill_amount INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    redeemed_at TEXT NOT NULL,
    api_key_id INTEGER,
    consumer_id INTEGER,
    reversed_at TEXT,
    UNIQUE (org_id, transaction_number, code)
);
CREATE INDEX redemptions_offer ON redemptions(offer_id, redeemed_at);
CREATE INDEX redemptions_coupon ON redemptions(coupon_id);

-- A customer's redemptions of an offer: the guarded row for per-customer max and gap days.
CREATE TABLE customer_redemptions (
    offer_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    redeem_count INTEGER NOT NULL,
    last_redeemed_on TEXT,
    PRIMARY KEY (offer_id, customer_id)
);

-- Redemption counts of offers without a total cap, spread over a few rows so that concurrent
-- redemptions of one offer do not queue on one row. Capped offers count on offers.redeemed_count.
CREATE TABLE offer_counters (
    offer_id INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    redeemed INTEGER NOT NULL,
    last_redeemed_at TEXT,
    PRIMARY KEY (offer_id, shard)
);

-- The Performance tab counts issues per day of an offer.
CREATE INDEX issuals_offer_time ON issuals(offer_id, issued_at);
