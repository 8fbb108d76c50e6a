-- The Overview page (issue 13.16), PostgreSQL. Redemptions that stand (not reversed) and the
-- discount they gave, per org and per 15-minute slot of UTC time, kept by a trigger wherever a
-- redemption row is written, reversed (`reversed_at` set), changed or deleted. The page sums a
-- fortnight of slots (at most 14 × 96 × 16 rows) into the org's calendar days, so its cost does
-- not grow with the number of coupons or redemptions.
--
-- Why 15-minute UTC slots: every time zone in use is a whole number of quarter hours from UTC
-- (India +05:30, Nepal +05:45, Chatham +12:45), so each org-local midnight is a slot boundary;
-- days are cut at read time in the org's current zone, so a change of zone needs no rewrite.
-- `slot` is the slot's start in Unix seconds.
--
-- Concurrency: every redemption of an org would otherwise update one row per slot. The row is
-- chosen by the session (`pg_backend_pid() % 16`), so concurrent transactions on different
-- connections update different rows, and the trigger is deferred to commit, so the row is
-- locked only while the transaction commits and after every coupon/offer lock is taken (no new
-- lock-order cycle with the redemption guards). A row may go negative (a reversal on another
-- connection); only sums are meaningful.
CREATE TABLE org_redemption_slots (
    org_id BIGINT NOT NULL,
    slot BIGINT NOT NULL,
    shard BIGINT NOT NULL,
    redemptions BIGINT NOT NULL,
    discount BIGINT NOT NULL,
    PRIMARY KEY (org_id, slot, shard)
);

CREATE FUNCTION count_org_redemption_slot() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    writer_shard BIGINT := pg_backend_pid() % 16;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.reversed_at IS NULL THEN
            INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
            VALUES (OLD.org_id, floor(extract(epoch FROM OLD.redeemed_at) / 900)::bigint * 900, writer_shard, -1, -OLD.discount)
            ON CONFLICT ON CONSTRAINT org_redemption_slots_pkey DO UPDATE
            SET redemptions = org_redemption_slots.redemptions + EXCLUDED.redemptions,
                discount = org_redemption_slots.discount + EXCLUDED.discount;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.reversed_at IS NULL THEN
            INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
            VALUES (NEW.org_id, floor(extract(epoch FROM NEW.redeemed_at) / 900)::bigint * 900, writer_shard, 1, NEW.discount)
            ON CONFLICT ON CONSTRAINT org_redemption_slots_pkey DO UPDATE
            SET redemptions = org_redemption_slots.redemptions + EXCLUDED.redemptions,
                discount = org_redemption_slots.discount + EXCLUDED.discount;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- A reversal (or any change of the counted columns) takes the old row out and puts the new one
-- in: a reversed redemption leaves the day it was redeemed on.
CREATE CONSTRAINT TRIGGER redemptions_slot_counted
AFTER INSERT OR DELETE OR UPDATE OF org_id, redeemed_at, discount, reversed_at ON redemptions
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION count_org_redemption_slot();

-- The redemptions written before this migration (the trigger above already holds the table's
-- lock, so none is missed or counted twice).
INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
SELECT org_id, floor(extract(epoch FROM redeemed_at) / 900)::bigint * 900 AS s, 0, COUNT(*), CAST(SUM(discount) AS BIGINT)
FROM redemptions WHERE reversed_at IS NULL GROUP BY org_id, s;

-- The Overview counts and lists an org's failed messages without reading its sent ones.
CREATE INDEX outbox_org_status ON outbox(org_id, status, id);
