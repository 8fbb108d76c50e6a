-- Limit counts that do not grow with the uses (issue #16): see PostgreSQL's migration 24. Each
-- use records the org's local day it was made on; triggers keep a count per promotion and local
-- day (one shard: SQLite's one writer never waits on it). Uses without a day (written before
-- this migration) are counted use by use until the next start dates them (`Store::date_uses`).
ALTER TABLE promotion_uses ADD COLUMN local_day TEXT;

CREATE TABLE promotion_day_uses (
    promotion_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    shard INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    PRIMARY KEY (promotion_id, day, shard)
);

CREATE INDEX promotion_uses_undated ON promotion_uses(promotion_id, used_at) WHERE local_day IS NULL;

CREATE TRIGGER promotion_uses_day_added AFTER INSERT ON promotion_uses
WHEN NEW.local_day IS NOT NULL AND NEW.reversed_at IS NULL
BEGIN
    INSERT INTO promotion_day_uses (promotion_id, day, shard, uses) VALUES (NEW.promotion_id, NEW.local_day, 0, 1)
    ON CONFLICT (promotion_id, day, shard) DO UPDATE SET uses = uses + 1;
END;

-- A use changed (reversed, a reversal undone, dated, its org's zone changed): out of its old
-- day's count if it counted there, into its new day's if it counts now.
CREATE TRIGGER promotion_uses_day_left AFTER UPDATE OF reversed_at, local_day ON promotion_uses
WHEN OLD.local_day IS NOT NULL AND OLD.reversed_at IS NULL
BEGIN
    INSERT INTO promotion_day_uses (promotion_id, day, shard, uses) VALUES (OLD.promotion_id, OLD.local_day, 0, -1)
    ON CONFLICT (promotion_id, day, shard) DO UPDATE SET uses = uses - 1;
END;

CREATE TRIGGER promotion_uses_day_entered AFTER UPDATE OF reversed_at, local_day ON promotion_uses
WHEN NEW.local_day IS NOT NULL AND NEW.reversed_at IS NULL
BEGIN
    INSERT INTO promotion_day_uses (promotion_id, day, shard, uses) VALUES (NEW.promotion_id, NEW.local_day, 0, 1)
    ON CONFLICT (promotion_id, day, shard) DO UPDATE SET uses = uses + 1;
END;
