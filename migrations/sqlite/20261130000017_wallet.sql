-- Customers' side (WAL-1..3): one-time sign-in codes, contacts and channel preference, guest
-- wallets, brand settings for customers' pages, public links and sharing of offers, shares and
-- referral rewards, and the messages they send (SQLite).

-- The outbox gains the customers' messages: one-time codes, codes delivered when issued,
-- shared coupons sent by SMS, referral rewards. SQLite cannot alter a CHECK: the table is
-- rebuilt with the same columns.
CREATE TABLE outbox_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL CHECK (kind IN ('poc_reminder', 'coupon_reminder', 'resend', 'otp', 'issued', 'share', 'referral')),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    offer_id INTEGER,
    dedupe_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_attempt_at TEXT
);
INSERT INTO outbox_rebuilt (id, org_id, kind, channel, recipient, subject, body_text, body_html, status,
    attempts, last_error, next_attempt_at, lease_until, offer_id, dedupe_key, created_at, sent_at, last_attempt_at)
    SELECT id, org_id, kind, channel, recipient, subject, body_text, body_html, status,
    attempts, last_error, next_attempt_at, lease_until, offer_id, dedupe_key, created_at, sent_at, last_attempt_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_org ON outbox(org_id, id);
CREATE INDEX outbox_org_status ON outbox(org_id, status, id);

-- How a customer is reached besides their identifier, and how they prefer it (CSV/API);
-- guests are customers made for one browser session's guest wallet.
ALTER TABLE customers ADD COLUMN mobile TEXT;
ALTER TABLE customers ADD COLUMN email TEXT;
ALTER TABLE customers ADD COLUMN preferred_channel TEXT CHECK (preferred_channel IN ('sms', 'email'));
ALTER TABLE customers ADD COLUMN guest BOOLEAN NOT NULL DEFAULT FALSE;

-- What customers' pages show of the brand.
ALTER TABLE orgs ADD COLUMN brand_name TEXT;
ALTER TABLE orgs ADD COLUMN brand_logo_url TEXT;
ALTER TABLE orgs ADD COLUMN brand_accent TEXT;

-- An offer's customers' side: its public link (NULL: not published), whether its coupons may
-- be shared, how (the coupon moves to the friend, or the friend gets a fresh one) and the
-- offer whose coupon rewards the recommender.
CREATE TABLE offer_sharing (
    offer_id INTEGER PRIMARY KEY REFERENCES offers(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    public_token TEXT UNIQUE,
    shareable BOOLEAN NOT NULL DEFAULT FALSE,
    share_mode TEXT NOT NULL DEFAULT 'transfer' CHECK (share_mode IN ('transfer', 'fresh')),
    referral_offer_id INTEGER REFERENCES offers(id),
    updated_at TEXT NOT NULL
);

-- One-time sign-in codes, stored hashed; throttled per recipient and per client address.
CREATE TABLE customer_otps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    identifier_type TEXT NOT NULL CHECK (identifier_type IN ('MOBILE', 'EMAIL')),
    identifier TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    address TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX customer_otps_recipient ON customer_otps(org_id, identifier_type, identifier, created_at);
CREATE INDEX customer_otps_address ON customer_otps(address, created_at);

-- A coupon shared by its owner; claimed once by a friend; the recommender rewarded once when
-- the friend's coupon is redeemed.
CREATE TABLE shares (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    offer_id INTEGER NOT NULL REFERENCES offers(id),
    token TEXT NOT NULL UNIQUE,
    coupon_id INTEGER NOT NULL REFERENCES coupons(id),
    owner_id INTEGER NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL CHECK (channel IN ('link', 'sms')),
    sent_to TEXT,
    created_at TEXT NOT NULL,
    friend_id INTEGER REFERENCES customers(id),
    claimed_at TEXT,
    friend_coupon_id INTEGER REFERENCES coupons(id),
    reward_coupon_id INTEGER REFERENCES coupons(id),
    rewarded_at TEXT,
    reward_note TEXT
);
CREATE INDEX shares_offer ON shares(offer_id, id);
CREATE INDEX shares_coupon ON shares(coupon_id);
CREATE INDEX shares_owner ON shares(owner_id);
CREATE INDEX shares_unrewarded ON shares(friend_coupon_id) WHERE rewarded_at IS NULL AND friend_coupon_id IS NOT NULL;
