-- Coupons (codes of an offer) and the offer's generated-code counter (SQLite).
CREATE TABLE coupons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    -- No per-row foreign key: bulk generation checks the offer once per job instead.
    offer_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'unissued' CHECK (status IN ('unissued', 'issued', 'redeemed', 'revoked')),
    customer_id INTEGER,
    issued_at TEXT,
    valid_till TEXT,
    redeem_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, code)
);
CREATE INDEX coupons_offer ON coupons(offer_id, id);

ALTER TABLE offers ADD COLUMN coupon_count INTEGER NOT NULL DEFAULT 0;
