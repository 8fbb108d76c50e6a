-- Customers' side (WAL-1..3): one-time sign-in codes, contacts and channel preference, guest
-- wallets, brand settings for customers' pages, public links and sharing of offers, shares and
-- referral rewards, and the messages they send (PostgreSQL).

-- The outbox gains the customers' messages: one-time codes, codes delivered when issued,
-- shared coupons sent by SMS, referral rewards.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('poc_reminder', 'coupon_reminder', 'resend', 'otp', 'issued', 'share', 'referral'));

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
    offer_id BIGINT PRIMARY KEY REFERENCES offers(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    public_token TEXT UNIQUE,
    shareable BOOLEAN NOT NULL DEFAULT FALSE,
    share_mode TEXT NOT NULL DEFAULT 'transfer' CHECK (share_mode IN ('transfer', 'fresh')),
    referral_offer_id BIGINT REFERENCES offers(id),
    updated_at TIMESTAMPTZ NOT NULL
);

-- One-time sign-in codes, stored hashed; throttled per recipient and per client address.
CREATE TABLE customer_otps (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    identifier_type TEXT NOT NULL CHECK (identifier_type IN ('MOBILE', 'EMAIL')),
    identifier TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    address TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX customer_otps_recipient ON customer_otps(org_id, identifier_type, identifier, created_at);
CREATE INDEX customer_otps_address ON customer_otps(address, created_at);

-- A coupon shared by its owner; claimed once by a friend; the recommender rewarded once when
-- the friend's coupon is redeemed.
CREATE TABLE shares (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    offer_id BIGINT NOT NULL REFERENCES offers(id),
    token TEXT NOT NULL UNIQUE,
    coupon_id BIGINT NOT NULL REFERENCES coupons(id),
    owner_id BIGINT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL CHECK (channel IN ('link', 'sms')),
    sent_to TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    friend_id BIGINT REFERENCES customers(id),
    claimed_at TIMESTAMPTZ,
    friend_coupon_id BIGINT REFERENCES coupons(id),
    reward_coupon_id BIGINT REFERENCES coupons(id),
    rewarded_at TIMESTAMPTZ,
    reward_note TEXT
);
CREATE INDEX shares_offer ON shares(offer_id, id);
CREATE INDEX shares_coupon ON shares(coupon_id);
CREATE INDEX shares_owner ON shares(owner_id);
CREATE INDEX shares_unrewarded ON shares(friend_coupon_id) WHERE rewarded_at IS NULL AND friend_coupon_id IS NOT NULL;
