-- Coupons (codes of an offer) and the offer's generated-code counter (PostgreSQL).
CREATE TABLE coupons (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    -- No per-row foreign key: bulk generation checks the offer once per job instead.
    offer_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'unissued' CHECK (status IN ('unissued', 'issued', 'redeemed', 'revoked')),
    customer_id BIGINT,
    issued_at TIMESTAMPTZ,
    valid_till DATE,
    redeem_count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (org_id, code)
);
CREATE INDEX coupons_offer ON coupons(offer_id, id);

ALTER TABLE offers ADD COLUMN coupon_count BIGINT NOT NULL DEFAULT 0;
