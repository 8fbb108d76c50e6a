-- A limit's count no longer reads every use in its window (issue #16; PostgreSQL's migration 24
-- explains the scheme): the uses before each org's `next_at` are also counted per promotion and
-- UTC quarter hour (span 0) and UTC day (span 1). Instants are the text sqlx writes
-- (`2026-12-01T15:14:59.9996+00:00`), so a quarter hour or a day is its start in that form, cut
-- from the text (SQLite's date functions round to the millisecond: 15:14:59.9996 would fall in
-- 15:15). Writes are serialized (`BEGIN IMMEDIATE`); the triggers count a use written or
-- reversed before `next_at`.
-- `version` changes to a random value whenever a late use or reversal changes the org's counts
-- (see PostgreSQL's migration 24).
CREATE TABLE promotion_use_folds (
    org_id INTEGER PRIMARY KEY,
    next_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE promotion_use_counts (
    promotion_id INTEGER NOT NULL,
    span INTEGER NOT NULL,
    at TEXT NOT NULL,
    uses INTEGER NOT NULL,
    PRIMARY KEY (promotion_id, span, at)
) WITHOUT ROWID;

CREATE TRIGGER promotion_uses_inserted AFTER INSERT ON promotion_uses
WHEN NEW.reversed_at IS NULL
 AND NEW.used_at < (SELECT f.next_at FROM promotion_use_folds f WHERE f.org_id = NEW.org_id)
BEGIN
    INSERT INTO promotion_use_counts (promotion_id, span, at, uses)
    SELECT NEW.promotion_id, s.span,
           CASE s.span WHEN 0 THEN substr(NEW.used_at, 1, 14) || printf('%02d', CAST(substr(NEW.used_at, 15, 2) AS INTEGER) / 15 * 15) || ':00+00:00'
                       ELSE substr(NEW.used_at, 1, 10) || 'T00:00:00+00:00' END,
           1
      FROM (SELECT 0 AS span UNION ALL SELECT 1) s WHERE true
    ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = uses + excluded.uses;
    UPDATE promotion_use_folds SET version = random() WHERE org_id = NEW.org_id;
END;

-- A reversal (or any other change): the old active use taken off, the new one added.
CREATE TRIGGER promotion_uses_updated AFTER UPDATE ON promotion_uses
BEGIN
    INSERT INTO promotion_use_counts (promotion_id, span, at, uses)
    SELECT OLD.promotion_id, s.span,
           CASE s.span WHEN 0 THEN substr(OLD.used_at, 1, 14) || printf('%02d', CAST(substr(OLD.used_at, 15, 2) AS INTEGER) / 15 * 15) || ':00+00:00'
                       ELSE substr(OLD.used_at, 1, 10) || 'T00:00:00+00:00' END,
           -1
      FROM (SELECT 0 AS span UNION ALL SELECT 1) s
     WHERE OLD.reversed_at IS NULL
       AND OLD.used_at < (SELECT f.next_at FROM promotion_use_folds f WHERE f.org_id = OLD.org_id)
    ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = uses + excluded.uses;
    INSERT INTO promotion_use_counts (promotion_id, span, at, uses)
    SELECT NEW.promotion_id, s.span,
           CASE s.span WHEN 0 THEN substr(NEW.used_at, 1, 14) || printf('%02d', CAST(substr(NEW.used_at, 15, 2) AS INTEGER) / 15 * 15) || ':00+00:00'
                       ELSE substr(NEW.used_at, 1, 10) || 'T00:00:00+00:00' END,
           1
      FROM (SELECT 0 AS span UNION ALL SELECT 1) s
     WHERE NEW.reversed_at IS NULL
       AND NEW.used_at < (SELECT f.next_at FROM promotion_use_folds f WHERE f.org_id = NEW.org_id)
    ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = uses + excluded.uses;
    UPDATE promotion_use_folds SET version = random()
     WHERE org_id IN (OLD.org_id, NEW.org_id)
       AND ((OLD.reversed_at IS NULL AND OLD.used_at < next_at)
            OR (NEW.reversed_at IS NULL AND NEW.used_at < next_at));
END;

CREATE TRIGGER promotion_uses_deleted AFTER DELETE ON promotion_uses
WHEN OLD.reversed_at IS NULL
 AND OLD.used_at < (SELECT f.next_at FROM promotion_use_folds f WHERE f.org_id = OLD.org_id)
BEGIN
    INSERT INTO promotion_use_counts (promotion_id, span, at, uses)
    SELECT OLD.promotion_id, s.span,
           CASE s.span WHEN 0 THEN substr(OLD.used_at, 1, 14) || printf('%02d', CAST(substr(OLD.used_at, 15, 2) AS INTEGER) / 15 * 15) || ':00+00:00'
                       ELSE substr(OLD.used_at, 1, 10) || 'T00:00:00+00:00' END,
           -1
      FROM (SELECT 0 AS span UNION ALL SELECT 1) s WHERE true
    ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = uses + excluded.uses;
    UPDATE promotion_use_folds SET version = random() WHERE org_id = OLD.org_id;
END;
