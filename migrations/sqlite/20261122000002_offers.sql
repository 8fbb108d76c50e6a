-- Offers (coupon series) and their rules (SQLite).
CREATE TABLE offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    offer_code TEXT NOT NULL,
    pos_code TEXT,
    expiry_type TEXT NOT NULL CHECK (expiry_type IN ('fixed', 'campaign')),
    expires_on TEXT,
    discount_type TEXT NOT NULL CHECK (discount_type IN ('ABS', 'PERC')),
    discount_value INTEGER NOT NULL,
    discount_cap INTEGER,
    applies_to TEXT NOT NULL CHECK (applies_to IN ('all', 'selected')),
    include_sale INTEGER NOT NULL,
    delivery TEXT NOT NULL CHECK (delivery IN ('system', 'third_party')),
    generation TEXT NOT NULL CHECK (generation IN ('unique', 'common', 'upload', 'randomized')),
    code_length INTEGER,
    code_charset TEXT,
    code_prefix TEXT,
    common_code TEXT,
    sample_code TEXT,
    upload_with_customers INTEGER NOT NULL,
    specific_customers_only INTEGER NOT NULL,
    coupon_expiry TEXT NOT NULL CHECK (coupon_expiry IN ('offer', 'days', 'month_ends')),
    coupon_expiry_n INTEGER,
    max_per_customer INTEGER,
    min_issual_gap_days INTEGER,
    total_issual_cap INTEGER,
    resend_text TEXT,
    anyone_can_redeem INTEGER NOT NULL,
    redemption_start TEXT NOT NULL CHECK (redemption_start IN ('issue', 'days', 'date')),
    redemption_start_days INTEGER,
    redemption_start_date TEXT,
    multiple_redemption INTEGER NOT NULL,
    max_redemptions_per_customer INTEGER,
    redemption_gap_days INTEGER,
    min_bill INTEGER,
    max_bill INTEGER,
    weekdays INTEGER NOT NULL,
    dates TEXT NOT NULL,
    time_slots TEXT NOT NULL,
    total_redemption_cap INTEGER,
    poc_reminder_days INTEGER,
    created_in_consumer INTEGER NOT NULL DEFAULT 0,
    claimed_by INTEGER REFERENCES consumers(id),
    issued_count INTEGER NOT NULL DEFAULT 0,
    redeemed_count INTEGER NOT NULL DEFAULT 0,
    last_issued_at TEXT,
    last_redeemed_at TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES users(id),
    updated_at TEXT NOT NULL,
    UNIQUE (org_id, offer_code)
);
CREATE UNIQUE INDEX offers_common_code ON offers(org_id, common_code) WHERE common_code IS NOT NULL;
CREATE INDEX offers_org_created ON offers(org_id, created_at);
CREATE INDEX offers_org_updated ON offers(org_id, updated_at);

CREATE TABLE offer_products (
    offer_id INTEGER NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('category', 'brand')),
    ref_id INTEGER NOT NULL,
    PRIMARY KEY (offer_id, kind, ref_id)
);

CREATE TABLE offer_scopes (
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    offer_id INTEGER NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL CHECK (entity_type IN ('STORE', 'TILL', 'ZONE', 'CONCEPT')),
    entity_id INTEGER NOT NULL,
    PRIMARY KEY (offer_id, entity_type, entity_id)
);
CREATE INDEX offer_scopes_entity ON offer_scopes(org_id, entity_type, entity_id);

CREATE TABLE offer_past_issual_offers (
    offer_id INTEGER NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    other_offer_id INTEGER NOT NULL REFERENCES offers(id),
    PRIMARY KEY (offer_id, other_offer_id)
);

CREATE TABLE offer_customer_reminders (
    offer_id INTEGER NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    days_before INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    text TEXT NOT NULL,
    PRIMARY KEY (offer_id, position)
);

CREATE TABLE offer_reminder_pocs (
    offer_id INTEGER NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    poc_id INTEGER NOT NULL REFERENCES pocs(id) ON DELETE CASCADE,
    PRIMARY KEY (offer_id, poc_id)
);

CREATE TABLE offer_drafts (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    consumer_id INTEGER REFERENCES consumers(id),
    form TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
