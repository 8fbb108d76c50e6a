-- Writing a redemption row uses its coupon in the same statement (PostgreSQL): the insert
-- fails with `coupon_taken` unless the guarded update finds the coupon neither revoked nor used
-- up (`coupon_limit`: the most redemptions the coupon allows, NULL = no limit). A concurrent
-- redemption of the same coupon waits on its row lock and re-checks the guard (Read Committed).
ALTER TABLE redemptions ADD COLUMN coupon_limit BIGINT;

CREATE FUNCTION use_redeemed_coupon() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE coupons SET redeem_count = redeem_count + 1, redeemed_at = NEW.redeemed_at,
        status = CASE WHEN NEW.coupon_limit IS NOT NULL AND redeem_count + 1 >= NEW.coupon_limit THEN 'redeemed' ELSE status END
    WHERE id = NEW.coupon_id AND status <> 'revoked' AND status <> 'redeemed'
        AND (NEW.coupon_limit IS NULL OR redeem_count < NEW.coupon_limit);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'coupon_taken' USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER redemptions_use_coupon BEFORE INSERT ON redemptions
FOR EACH ROW EXECUTE FUNCTION use_redeemed_coupon();
