-- Offers (coupon series) and their rules (PostgreSQL).
CREATE TABLE offers (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    offer_code TEXT NOT NULL,
    pos_code TEXT,
    expiry_type TEXT NOT NULL CHECK (expiry_type IN ('fixed', 'campaign')),
    expires_on DATE,
    discount_type TEXT NOT NULL CHECK (discount_type IN ('ABS', 'PERC')),
    discount_value BIGINT NOT NULL,
    discount_cap BIGINT,
    applies_to TEXT NOT NULL CHECK (applies_to IN ('all', 'selected')),
    include_sale BOOLEAN NOT NULL,
    delivery TEXT NOT NULL CHECK (delivery IN ('system', 'third_party')),
    generation TEXT NOT NULL CHECK (generation IN ('unique', 'common', 'upload', 'randomized')),
    code_length BIGINT,
    code_charset TEXT,
    code_prefix TEXT,
    common_code TEXT,
    sample_code TEXT,
    upload_with_customers BOOLEAN NOT NULL,
    specific_customers_only BOOLEAN NOT NULL,
    coupon_expiry TEXT NOT NULL CHECK (coupon_expiry IN ('offer', 'days', 'month_ends')),
    coupon_expiry_n BIGINT,
    max_per_customer BIGINT,
    min_issual_gap_days BIGINT,
    total_issual_cap BIGINT,
    resend_text TEXT,
    anyone_can_redeem BOOLEAN NOT NULL,
    redemption_start TEXT NOT NULL CHECK (redemption_start IN ('issue', 'days', 'date')),
    redemption_start_days BIGINT,
    redemption_start_date DATE,
    multiple_redemption BOOLEAN NOT NULL,
    max_redemptions_per_customer BIGINT,
    redemption_gap_days BIGINT,
    min_bill BIGINT,
    max_bill BIGINT,
    weekdays BIGINT NOT NULL,
    dates TEXT NOT NULL,
    time_slots TEXT NOT NULL,
    total_redemption_cap BIGINT,
    poc_reminder_days BIGINT,
    created_in_consumer BOOLEAN NOT NULL DEFAULT FALSE,
    claimed_by BIGINT REFERENCES consumers(id),
    issued_count BIGINT NOT NULL DEFAULT 0,
    redeemed_count BIGINT NOT NULL DEFAULT 0,
    last_issued_at TIMESTAMPTZ,
    last_redeemed_at TIMESTAMPTZ,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, offer_code)
);
CREATE UNIQUE INDEX offers_common_code ON offers(org_id, common_code) WHERE common_code IS NOT NULL;
CREATE INDEX offers_org_created ON offers(org_id, created_at);
CREATE INDEX offers_org_updated ON offers(org_id, updated_at);

CREATE TABLE offer_products (
    offer_id BIGINT NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('category', 'brand')),
    ref_id BIGINT NOT NULL,
    PRIMARY KEY (offer_id, kind, ref_id)
);

CREATE TABLE offer_scopes (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    offer_id BIGINT NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL CHECK (entity_type IN ('STORE', 'TILL', 'ZONE', 'CONCEPT')),
    entity_id BIGINT NOT NULL,
    PRIMARY KEY (offer_id, entity_type, entity_id)
);
CREATE INDEX offer_scopes_entity ON offer_scopes(org_id, entity_type, entity_id);

CREATE TABLE offer_past_issual_offers (
    offer_id BIGINT NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    other_offer_id BIGINT NOT NULL REFERENCES offers(id),
    PRIMARY KEY (offer_id, other_offer_id)
);

CREATE TABLE offer_customer_reminders (
    offer_id BIGINT NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    days_before BIGINT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    text TEXT NOT NULL,
    PRIMARY KEY (offer_id, position)
);

CREATE TABLE offer_reminder_pocs (
    offer_id BIGINT NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    poc_id BIGINT NOT NULL REFERENCES pocs(id) ON DELETE CASCADE,
    PRIMARY KEY (offer_id, poc_id)
);

CREATE TABLE offer_drafts (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    consumer_id BIGINT REFERENCES consumers(id),
    form TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
