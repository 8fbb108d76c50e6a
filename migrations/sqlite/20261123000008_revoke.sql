-- Revoking coupons (REV-1): when a coupon was revoked (SQLite).
ALTER TABLE coupons ADD COLUMN revoked_at TEXT;
