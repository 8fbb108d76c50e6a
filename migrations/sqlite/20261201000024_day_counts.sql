-- Limit counts that do not grow with the uses (issue #16): see PostgreSQL's migration 24. Each
-- use records the org's local day it was made on; triggers keep a count per promotion and local
-- day (one shard: SQLite's one writer never waits on it). SQLite cannot tell a zone's local
-- day, so the uses written before this migration get theirs, and their days' counts, from
-- `Store::migrate` (`store::promotion_limits::date_uses`).
ALTER TABLE promotion_uses ADD COLUMN local_day TEXT;

CREATE TABLE promotion_day_uses (
    promotion_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    shard INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    PRIMARY KEY (promotion_id, day, shard)
);

-- Finds the uses `Store::migrate` has to date (none once done) without reading them all.
CREATE INDEX promotion_uses_undated ON promotion_uses(id) WHERE local_day IS NULL;

CREATE TRIGGER promotion_uses_day_count_insert AFTER INSERT ON promotion_uses
WHEN NEW.local_day IS NOT NULL AND NEW.reversed_at IS NULL
BEGIN
    INSERT INTO promotion_day_uses (promotion_id, day, shard, uses) VALUES (NEW.promotion_id, NEW.local_day, 0, 1)
    ON CONFLICT (promotion_id, day, shard) DO UPDATE SET uses = uses + 1;
END;

CREATE TRIGGER promotion_uses_day_count_reverse AFTER UPDATE OF reversed_at ON promotion_uses
WHEN NEW.local_day IS NOT NULL AND (OLD.reversed_at IS NULL) <> (NEW.reversed_at IS NULL)
BEGIN
    INSERT INTO promotion_day_uses (promotion_id, day, shard, uses)
    VALUES (NEW.promotion_id, NEW.local_day, 0, CASE WHEN NEW.reversed_at IS NULL THEN 1 ELSE -1 END)
    ON CONFLICT (promotion_id, day, shard) DO UPDATE SET uses = uses + excluded.uses;
END;
