-- Revoking coupons (REV-1): when a coupon was revoked (PostgreSQL).
ALTER TABLE coupons ADD COLUMN revoked_at TIMESTAMPTZ;
