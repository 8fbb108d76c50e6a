-- The Overview page (issue 13.16), SQLite. Redemptions that stand (not reversed) and the
-- discount they gave, per org and per 15-minute slot of UTC time, kept by triggers wherever a
-- redemption row is written, reversed (`reversed_at` set), changed or deleted. The page sums a
-- fortnight of slots (at most 14 × 96 rows) into the org's calendar days, so its cost does not
-- grow with the number of coupons or redemptions.
--
-- Why 15-minute UTC slots: every time zone in use is a whole number of quarter hours from UTC
-- (India +05:30, Nepal +05:45, Chatham +12:45), so each org-local midnight is a slot boundary;
-- days are cut at read time in the org's current zone, so a change of zone needs no rewrite.
-- `slot` is the slot's start in Unix seconds. `shard` spreads concurrent writers over rows on
-- PostgreSQL; SQLite has one writer and always uses shard 0. A row may go negative (a
-- reversal subtracting from another shard); only sums are meaningful.
CREATE TABLE org_redemption_slots (
    org_id INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    redemptions INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, shard)
) WITHOUT ROWID;

-- `redeemed_at` is always written as UTC RFC 3339 ("2026-11-30T12:34:56.123456+00:00"); its
-- first 19 characters are the UTC second, which truncates as PostgreSQL's floor() does (a
-- full parse would round to the millisecond and could move a row across a slot boundary).
CREATE TRIGGER redemptions_slot_insert AFTER INSERT ON redemptions
WHEN NEW.reversed_at IS NULL
BEGIN
    INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
    VALUES (NEW.org_id, CAST(strftime('%s', substr(NEW.redeemed_at, 1, 19)) AS INTEGER) / 900 * 900, 0, 1, NEW.discount)
    ON CONFLICT (org_id, slot, shard) DO UPDATE SET redemptions = redemptions + excluded.redemptions,
        discount = discount + excluded.discount;
END;

-- A reversal (or any change of the counted columns) takes the old row out and puts the new one
-- in: a reversed redemption leaves the day it was redeemed on.
CREATE TRIGGER redemptions_slot_update AFTER UPDATE OF org_id, redeemed_at, discount, reversed_at ON redemptions
BEGIN
    INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
    SELECT OLD.org_id, CAST(strftime('%s', substr(OLD.redeemed_at, 1, 19)) AS INTEGER) / 900 * 900, 0, -1, -OLD.discount
    WHERE OLD.reversed_at IS NULL
    ON CONFLICT (org_id, slot, shard) DO UPDATE SET redemptions = redemptions + excluded.redemptions,
        discount = discount + excluded.discount;
    INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
    SELECT NEW.org_id, CAST(strftime('%s', substr(NEW.redeemed_at, 1, 19)) AS INTEGER) / 900 * 900, 0, 1, NEW.discount
    WHERE NEW.reversed_at IS NULL
    ON CONFLICT (org_id, slot, shard) DO UPDATE SET redemptions = redemptions + excluded.redemptions,
        discount = discount + excluded.discount;
END;

CREATE TRIGGER redemptions_slot_delete AFTER DELETE ON redemptions
WHEN OLD.reversed_at IS NULL
BEGIN
    INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
    VALUES (OLD.org_id, CAST(strftime('%s', substr(OLD.redeemed_at, 1, 19)) AS INTEGER) / 900 * 900, 0, -1, -OLD.discount)
    ON CONFLICT (org_id, slot, shard) DO UPDATE SET redemptions = redemptions + excluded.redemptions,
        discount = discount + excluded.discount;
END;

-- The redemptions written before this migration.
INSERT INTO org_redemption_slots (org_id, slot, shard, redemptions, discount)
SELECT org_id, CAST(strftime('%s', substr(redeemed_at, 1, 19)) AS INTEGER) / 900 * 900 AS s, 0, COUNT(*), SUM(discount)
FROM redemptions WHERE reversed_at IS NULL GROUP BY org_id, s;

-- The Overview counts and lists an org's failed messages without reading its sent ones.
CREATE INDEX outbox_org_status ON outbox(org_id, status, id);
