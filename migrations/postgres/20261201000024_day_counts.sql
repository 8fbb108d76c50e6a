-- Limit counts that do not grow with the uses (issue #16). Counting a promotion's uses row by
-- row made every cart that met a popular promotion pay for all its uses in the window (200,000
-- uses: 17 ms a count), and a closing cart paid it while holding the promotion's row. Each use
-- now records the org's local day it was made on (`local_day`, written by the application with
-- the zone database it reads windows with), and triggers keep a count per promotion and local
-- day (in 8 shards by backend; a count sums them). A window's whole local days are read from
-- these counts, the parts of a day at its edges (a "last X days" window starts at the time of
-- day it is now) use by use, and uses without a day (written before this migration or by an
-- instance not yet upgraded; the next start dates them, `Store::date_uses`) use by use over the
-- whole window.
ALTER TABLE promotion_uses ADD COLUMN local_day DATE;

CREATE TABLE promotion_day_uses (
    promotion_id BIGINT NOT NULL,
    day DATE NOT NULL,
    shard BIGINT NOT NULL,
    -- INTEGER: its SUM is a BIGINT (a BIGINT's is a NUMERIC, slower to add up on every count).
    uses INTEGER NOT NULL,
    PRIMARY KEY (promotion_id, day, shard)
);

CREATE INDEX promotion_uses_undated ON promotion_uses(promotion_id, used_at) WHERE local_day IS NULL;

-- Uses written or changed (reversed, a reversal undone, dated, their org's zone changed): one
-- call per statement, the days' counts moved by what the statement changed, taken in
-- (promotion, day) order so that two statements meeting the same rows cannot deadlock.
CREATE FUNCTION promotion_day_uses_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO promotion_day_uses (promotion_id, day, shard, uses)
    SELECT promotion_id, local_day, pg_backend_pid() % 8, COUNT(*) FROM added
     WHERE reversed_at IS NULL AND local_day IS NOT NULL
     GROUP BY promotion_id, local_day
     ORDER BY promotion_id, local_day
    ON CONFLICT (promotion_id, day, shard) DO UPDATE SET uses = promotion_day_uses.uses + excluded.uses;
    RETURN NULL;
END $$;

CREATE TRIGGER promotion_uses_day_added AFTER INSERT ON promotion_uses
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION promotion_day_uses_added();

CREATE FUNCTION promotion_day_uses_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO promotion_day_uses (promotion_id, day, shard, uses)
    SELECT promotion_id, day, pg_backend_pid() % 8, SUM(delta) FROM (
        SELECT promotion_id, local_day AS day, 1 AS delta FROM after_rows
         WHERE reversed_at IS NULL AND local_day IS NOT NULL
        UNION ALL
        SELECT promotion_id, local_day, -1 FROM before_rows
         WHERE reversed_at IS NULL AND local_day IS NOT NULL
    ) d
     GROUP BY promotion_id, day
    HAVING SUM(delta) <> 0
     ORDER BY promotion_id, day
    ON CONFLICT (promotion_id, day, shard) DO UPDATE SET uses = promotion_day_uses.uses + excluded.uses;
    RETURN NULL;
END $$;

CREATE TRIGGER promotion_uses_day_changed AFTER UPDATE ON promotion_uses
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION promotion_day_uses_changed();

-- Migration 23's function, counting the global uses by day (the asks carry the window's split,
-- `domain::promotion::day_split`: whole days [df, dt) as days since 1970-01-01, edges [gf, ef)
-- and [tf, gt), an empty edge left out). An instance not yet upgraded sends no split (df NULL):
-- its asks are counted use by use over [gf, gt), as migration 23 did.
CREATE OR REPLACE FUNCTION promotions_used_held(asks JSONB)
RETURNS TABLE (p BIGINT, uses BIGINT, customer_uses BIGINT, customer_value BIGINT, short BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    bound BIGINT := current_setting('max_connections')::BIGINT
                  + current_setting('max_prepared_transactions')::BIGINT;
    r RECORD;
BEGIN
    FOR r IN SELECT (x ->> 'p')::BIGINT AS id,
                    (x ->> 'r')::BIGINT >= 2 * bound AS shared
               FROM jsonb_array_elements(asks) x
              ORDER BY 1
    LOOP
        IF r.shared THEN
            PERFORM pg_advisory_xact_lock_shared(1601, (r.id % 2147483647)::INT);
            PERFORM 1 FROM promotions WHERE id = r.id FOR SHARE;
        ELSE
            PERFORM pg_advisory_xact_lock(1601, (r.id % 2147483647)::INT);
            PERFORM 1 FROM promotions WHERE id = r.id FOR NO KEY UPDATE;
        END IF;
    END LOOP;
    RETURN QUERY
    SELECT c.p, c.uses, c.n, c.v,
           COALESCE(c.r >= 2 * bound AND c.uses + bound > c.l, FALSE)
      FROM (SELECT a.p, a.l, a.r,
                   CASE WHEN a.df IS NULL THEN (SELECT COUNT(*) FROM promotion_uses u
                       WHERE u.promotion_id = a.p AND u.reversed_at IS NULL
                         AND u.used_at >= a.gf AND u.used_at < a.gt)
                   ELSE COALESCE((SELECT SUM(d.uses) FROM promotion_day_uses d WHERE d.promotion_id = a.p
                              AND d.day >= DATE '1970-01-01' + a.df
                              AND d.day < DATE '1970-01-01' + a.dt), 0)
                   + CASE WHEN a.gf < a.ef THEN (SELECT COUNT(*) FROM promotion_uses u
                       WHERE u.promotion_id = a.p AND u.reversed_at IS NULL AND u.local_day IS NOT NULL
                         AND u.used_at >= a.gf AND u.used_at < a.ef) ELSE 0 END
                   + CASE WHEN a.tf < a.gt THEN (SELECT COUNT(*) FROM promotion_uses u
                       WHERE u.promotion_id = a.p AND u.reversed_at IS NULL AND u.local_day IS NOT NULL
                         AND u.used_at >= a.tf AND u.used_at < a.gt) ELSE 0 END
                   + (SELECT COUNT(*) FROM promotion_uses u
                       WHERE u.promotion_id = a.p AND u.reversed_at IS NULL AND u.local_day IS NULL
                         AND u.used_at >= a.gf AND u.used_at < a.gt) END AS uses,
                   m.n, m.v
              FROM jsonb_to_recordset(asks) AS a(p BIGINT, gf TIMESTAMPTZ, gt TIMESTAMPTZ, c BIGINT,
                                                 cf TIMESTAMPTZ, ct TIMESTAMPTZ, l BIGINT, r BIGINT,
                                                 df INT, dt INT, ef TIMESTAMPTZ, tf TIMESTAMPTZ)
             CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v
                                   FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c
                                    AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) m
             -- Promotions never used are left out (nothing to count; 0 uses is never short).
             WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = a.p)) c;
END $$;
