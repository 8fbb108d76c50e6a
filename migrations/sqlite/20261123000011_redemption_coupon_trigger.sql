-- Writing a redemption row uses its coupon in the same statement (SQLite): the insert fails
-- with `coupon_taken` unless the coupon is neither revoked nor used up (`coupon_limit`: the
-- most redemptions the coupon allows, NULL = no limit). A single-code redemption is then one
-- statement; the writer connection makes the check and the update one atomic step.
ALTER TABLE redemptions ADD COLUMN coupon_limit INTEGER;

CREATE TRIGGER redemptions_use_coupon BEFORE INSERT ON redemptions
BEGIN
    SELECT RAISE(ABORT, 'coupon_taken') WHERE NOT EXISTS (
        SELECT 1 FROM coupons WHERE id = NEW.coupon_id AND status <> 'revoked' AND status <> 'redeemed'
        AND (NEW.coupon_limit IS NULL OR redeem_count < NEW.coupon_limit));
    UPDATE coupons SET redeem_count = redeem_count + 1, redeemed_at = NEW.redeemed_at,
        status = CASE WHEN NEW.coupon_limit IS NOT NULL AND redeem_count + 1 >= NEW.coupon_limit THEN 'redeemed' ELSE status END
    WHERE id = NEW.coupon_id;
END;
