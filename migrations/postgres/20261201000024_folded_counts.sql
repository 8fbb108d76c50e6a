-- A limit's count no longer reads every use in its window (issue #16): with 20,000 uses of a
-- promotion this month, each cart that met it counted 20,000 rows. The uses stay as they are
-- (per-customer limits, reports and reversals read them); what is older than a minute or so is
-- also counted in `promotion_use_counts`, per promotion and UTC quarter hour (span 0) and UTC
-- day (span 1) — every zone's midnight falls on a quarter hour, so a window in an org's zone is
-- its whole days, the quarter hours at its edges, and the uses at its very edges and after the
-- folded point counted one by one: a month's window sums at most ~220 rows whatever the
-- traffic; a limit without a reset sums one day row per day the promotion was used.
--
-- Per org, `promotion_use_folds.next_at` is where the counts end: they hold exactly the active
-- uses before it. The scheduler moves it forward (`store::promotion_folds`) holding the
-- exclusive advisory lock (1602, org) — granted once every transaction that wrote the org's
-- uses has ended, since each holds the shared lock from its write to its end (the triggers
-- below). A use written or reversed before `next_at` after the fold (a close that began long
-- before, an instance without this migration) is added to the counts by the trigger, under the
-- shared lock, so the counts and `next_at` always agree in any snapshot. The triggers read
-- `next_at` as committed when they run, which needs READ COMMITTED (the application's level):
-- they refuse to run under another.
-- `version` changes whenever a use written or reversed before `next_at` changes the org's
-- counts, to a random value (never one seen before, even after a restore or a failover that lost
-- commits): an instance may keep a sum it read under the version its cart read before it, and
-- use it while that version is the current one in the count's own snapshot. A fold leaves it:
-- it adds only to the quarter hour and day holding the old `next_at` and later ones, and a kept
-- sum stops at the quarter hour of a folded point read before that fold (`next_at` only moves
-- forward).
CREATE TABLE promotion_use_folds (
    org_id BIGINT PRIMARY KEY,
    next_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE promotion_use_counts (
    promotion_id BIGINT NOT NULL,
    span SMALLINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    uses BIGINT NOT NULL,
    PRIMARY KEY (promotion_id, span, at)
);

-- The active uses in `changes` (sign +1 or -1) before their org's `next_at`, added to the counts.
CREATE FUNCTION promotion_use_counts_add(changes JSONB) RETURNS VOID
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO promotion_use_counts (promotion_id, span, at, uses)
    SELECT c.p, s.span,
           CASE s.span WHEN 0 THEN date_bin('15 minutes', c.t, TIMESTAMPTZ '1970-01-01 00:00:00+00')
                       ELSE date_trunc('day', c.t, 'UTC') END,
           SUM(c.d)
      FROM jsonb_to_recordset(changes) AS c(o BIGINT, p BIGINT, t TIMESTAMPTZ, d BIGINT)
      JOIN promotion_use_folds f ON f.org_id = c.o AND c.t < f.next_at
     CROSS JOIN (VALUES (0::SMALLINT), (1::SMALLINT)) s(span)
     GROUP BY 1, 2, 3
    HAVING SUM(c.d) <> 0
     ORDER BY 1, 2, 3
    ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = promotion_use_counts.uses + EXCLUDED.uses;
    IF FOUND THEN
        UPDATE promotion_use_folds f SET version = (random() * 9.2e18)::BIGINT
         WHERE f.org_id IN (SELECT (x ->> 'o')::BIGINT FROM jsonb_array_elements(changes) x);
    END IF;
END $$;

-- A close's uses (the hot path): the shared lock, then any use before `next_at` counted.
CREATE FUNCTION promotion_uses_inserted() RETURNS TRIGGER
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'promotion uses are written under READ COMMITTED only (migration 24)';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1602, (o % 2147483647)::INT)
       FROM (SELECT DISTINCT n.org_id AS o FROM new_uses n ORDER BY 1) orgs;
    INSERT INTO promotion_use_counts (promotion_id, span, at, uses)
    SELECT n.promotion_id, s.span,
           CASE s.span WHEN 0 THEN date_bin('15 minutes', n.used_at, TIMESTAMPTZ '1970-01-01 00:00:00+00')
                       ELSE date_trunc('day', n.used_at, 'UTC') END,
           COUNT(*)
      FROM new_uses n
      JOIN promotion_use_folds f ON f.org_id = n.org_id AND n.used_at < f.next_at
     CROSS JOIN (VALUES (0::SMALLINT), (1::SMALLINT)) s(span)
     WHERE n.reversed_at IS NULL
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3
    ON CONFLICT (promotion_id, span, at) DO UPDATE SET uses = promotion_use_counts.uses + EXCLUDED.uses;
    IF FOUND THEN
        UPDATE promotion_use_folds f SET version = (random() * 9.2e18)::BIGINT
         WHERE f.org_id IN (SELECT n.org_id FROM new_uses n);
    END IF;
    RETURN NULL;
END $$;

-- A reversal (or any other change or removal of uses): each old active use taken off, each new
-- one added, through `promotion_use_counts_add`.
CREATE FUNCTION promotion_uses_changed() RETURNS TRIGGER
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    changes JSONB;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'promotion uses are written under READ COMMITTED only (migration 24)';
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT jsonb_agg(jsonb_build_object('o', o.org_id, 'p', o.promotion_id, 't', o.used_at, 'd', -1))
          INTO changes FROM old_uses o WHERE o.reversed_at IS NULL;
    ELSE
        SELECT jsonb_agg(x) INTO changes FROM (
            SELECT jsonb_build_object('o', o.org_id, 'p', o.promotion_id, 't', o.used_at, 'd', -1) AS x
              FROM old_uses o WHERE o.reversed_at IS NULL
            UNION ALL
            SELECT jsonb_build_object('o', n.org_id, 'p', n.promotion_id, 't', n.used_at, 'd', 1)
              FROM new_uses n WHERE n.reversed_at IS NULL) y;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1602, (o % 2147483647)::INT)
       FROM (SELECT DISTINCT (x ->> 'o')::BIGINT AS o FROM jsonb_array_elements(COALESCE(changes, '[]')) x
              ORDER BY 1) orgs;
    IF changes IS NOT NULL THEN
        PERFORM promotion_use_counts_add(changes);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER promotion_uses_inserted AFTER INSERT ON promotion_uses
    REFERENCING NEW TABLE AS new_uses FOR EACH STATEMENT EXECUTE FUNCTION promotion_uses_inserted();
CREATE TRIGGER promotion_uses_updated AFTER UPDATE ON promotion_uses
    REFERENCING OLD TABLE AS old_uses NEW TABLE AS new_uses FOR EACH STATEMENT EXECUTE FUNCTION promotion_uses_changed();
CREATE TRIGGER promotion_uses_deleted AFTER DELETE ON promotion_uses
    REFERENCING OLD TABLE AS old_uses FOR EACH STATEMENT EXECUTE FUNCTION promotion_uses_changed();

-- The uses of each asked promotion (`store::promotion_limits::FOLDED_PG` and the close's
-- count), each ask's global window in parts the app computed from the org's folded point
-- (`promotion_limits::parts`): `uses` counted one by one in [r1f, r1t) and [r2f, r2t),
-- `folded` summed over the days in [df, dt) and the quarter hours in [q1f, q1t) and
-- [q2f, q2t) — or `k`, the sum an instance kept, while org `org`'s counts are at version `ver`
-- (read in the same snapshot as the rest, so the count stays exact); an empty part costs no
-- lookup. The customer's uses and discount in [cf, ct) one by one. Promotions never used are
-- left out.
CREATE FUNCTION promotion_counts(asks JSONB, org BIGINT, ver BIGINT)
RETURNS TABLE (p BIGINT, uses BIGINT, folded BIGINT, customer_uses BIGINT, customer_value BIGINT)
LANGUAGE sql STABLE AS $$
SELECT a.p,
       CASE WHEN a.r1f < a.r1t THEN
            (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL
               AND u.used_at >= a.r1f AND u.used_at < a.r1t) ELSE 0 END
       + CASE WHEN a.r2f < a.r2t THEN
            (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL
               AND u.used_at >= a.r2f AND u.used_at < a.r2t) ELSE 0 END,
       CASE WHEN a.k IS NOT NULL AND w.version = ver THEN a.k ELSE
       CASE WHEN a.df < a.dt THEN
            (SELECT COALESCE(SUM(c.uses), 0)::BIGINT FROM promotion_use_counts c
              WHERE c.promotion_id = a.p AND c.span = 1 AND c.at >= a.df AND c.at < a.dt) ELSE 0 END
       + CASE WHEN a.q1f < a.q1t THEN
            (SELECT COALESCE(SUM(c.uses), 0)::BIGINT FROM promotion_use_counts c
              WHERE c.promotion_id = a.p AND c.span = 0 AND c.at >= a.q1f AND c.at < a.q1t) ELSE 0 END
       + CASE WHEN a.q2f < a.q2t THEN
            (SELECT COALESCE(SUM(c.uses), 0)::BIGINT FROM promotion_use_counts c
              WHERE c.promotion_id = a.p AND c.span = 0 AND c.at >= a.q2f AND c.at < a.q2t) ELSE 0 END
       END,
       m.n, m.v
  FROM jsonb_to_recordset(asks) AS a(p BIGINT, r1f TIMESTAMPTZ, r1t TIMESTAMPTZ, df TIMESTAMPTZ,
                                     dt TIMESTAMPTZ, q1f TIMESTAMPTZ, q1t TIMESTAMPTZ, q2f TIMESTAMPTZ,
                                     q2t TIMESTAMPTZ, r2f TIMESTAMPTZ, r2t TIMESTAMPTZ, c BIGINT,
                                     cf TIMESTAMPTZ, ct TIMESTAMPTZ, k BIGINT)
 CROSS JOIN (SELECT (SELECT f.version FROM promotion_use_folds f WHERE f.org_id = org) AS version) w
 CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v
                       FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c
                        AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) m
 WHERE EXISTS (SELECT 1 FROM promotion_uses u WHERE u.promotion_id = a.p)
$$;

-- Migration 23's function with this count: rows taken the same way (FOR SHARE far from the
-- limit, FOR NO KEY UPDATE near it, each behind its advisory lock on (1601, id), in id order),
-- then counted. Migrations 22's and 23's functions stay for instances not yet upgraded (they
-- count the uses one by one, which stays exact).
CREATE FUNCTION promotion_counts_held(asks JSONB, org BIGINT, ver BIGINT)
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
    SELECT c.p, c.uses + c.folded, c.customer_uses, c.customer_value,
           COALESCE(a.r >= 2 * bound AND c.uses + c.folded + bound > a.l, FALSE)
      FROM promotion_counts(asks, org, ver) c
      JOIN jsonb_to_recordset(asks) AS a(p BIGINT, l BIGINT, r BIGINT) ON a.p = c.p;
END $$;
