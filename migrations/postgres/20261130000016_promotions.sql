-- Cart promotions (PRM-1, seed 003): the product catalogue, customer tiers and segments,
-- promotions, their codes, their uses, and carts (PostgreSQL).
CREATE TABLE products (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    price BIGINT NOT NULL,
    category TEXT,
    brand TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, sku)
);

-- Live promotions an org may have at once (seed 003: 250 unless raised).
ALTER TABLE orgs ADD COLUMN live_promotion_cap BIGINT NOT NULL DEFAULT 250;
-- Moves on every write of the org's promotions: an instance's cache of live promotions is
-- current while it matches.
ALTER TABLE orgs ADD COLUMN promotions_version BIGINT NOT NULL DEFAULT 0;

-- A customer's tiers and segments, for promotions that target them.
CREATE TABLE customer_tags (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL CHECK (kind IN ('tier', 'segment')),
    value TEXT NOT NULL,
    PRIMARY KEY (customer_id, kind, value)
);

-- A promotion: its rules as the engine reads them (JSON, `domain::promotion::Promotion`
-- without the id), its status and when it runs.
CREATE TABLE promotions (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'live', 'paused', 'ended')),
    definition TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX promotions_org ON promotions(org_id, status);

-- The codes of code-linked promotions: unique in the org (as are coupon codes).
CREATE TABLE promotion_codes (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    promotion_id BIGINT NOT NULL REFERENCES promotions(id),
    PRIMARY KEY (org_id, code)
);

-- One row per (promotion, closed cart) it applied to; limits count these inside their window.
CREATE TABLE promotion_uses (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    promotion_id BIGINT NOT NULL REFERENCES promotions(id),
    cart_id TEXT NOT NULL,
    customer_id BIGINT,
    discount BIGINT NOT NULL,
    used_at TIMESTAMPTZ NOT NULL,
    reversed_at TIMESTAMPTZ,
    UNIQUE (promotion_id, cart_id)
);
CREATE INDEX promotion_uses_window ON promotion_uses(promotion_id, used_at);
CREATE INDEX promotion_uses_customer ON promotion_uses(promotion_id, customer_id, used_at);
-- A cancelled cart's uses; the org's top promotions over a window.
CREATE INDEX promotion_uses_cart ON promotion_uses(org_id, cart_id);
CREATE INDEX promotion_uses_org ON promotion_uses(org_id, used_at);

-- A cart the till evaluated and closed: a retried close answers `result` again.
CREATE TABLE carts (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    cart_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('closed', 'cancelled')),
    customer_id BIGINT,
    result TEXT NOT NULL,
    closed_at TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ,
    PRIMARY KEY (org_id, cart_id)
);
