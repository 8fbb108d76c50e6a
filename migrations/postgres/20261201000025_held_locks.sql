-- A closing cart takes its limited promotions' locks by two statements instead of two per
-- promotion (issue #16: `perf` of PostgreSQL closes put a third of a backend's time in the held
-- functions of migrations 23 and 24, most of it the executor set up for each PERFORM of their
-- loop). The same locks in the same modes: first the advisory lock on (1601, id) of every
-- asked promotion, in id order, each shared or exclusive as its row will be; then the rows, in
-- id order, FOR SHARE or FOR NO KEY UPDATE. Taking every advisory lock first keeps the turns:
-- a close or a console edit whose row lock conflicts with this one's holds the conflicting
-- advisory lock first, so once a close holds its advisory locks its rows wait only for writers
-- that take none (an instance still on migration 22, whose rows are taken in id order too, so
-- no lock cycle can form; while such a wait lasts, the close holds the advisory locks of its
-- later promotions a little earlier than the loop did). An ask without `r` (or with a null one)
-- is taken exclusively, as before. The counts are migration 23's and 24's, unchanged.

-- The locks of a close's asks (`r` against twice `bound`), both statements.
CREATE FUNCTION promotion_locks_held(asks JSONB, bound BIGINT) RETURNS VOID
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM CASE WHEN x.shared THEN pg_advisory_xact_lock_shared(1601, (x.id % 2147483647)::INT)
                 ELSE pg_advisory_xact_lock(1601, (x.id % 2147483647)::INT) END
       FROM (SELECT (a ->> 'p')::BIGINT AS id,
                    COALESCE((a ->> 'r')::BIGINT >= 2 * bound, FALSE) AS shared
               FROM jsonb_array_elements(asks) a
              ORDER BY 1) x;
    PERFORM 1
       FROM (SELECT (a ->> 'p')::BIGINT AS id,
                    COALESCE((a ->> 'r')::BIGINT >= 2 * bound, FALSE) AS shared
               FROM jsonb_array_elements(asks) a
              ORDER BY 1) x
       LEFT JOIN LATERAL (SELECT 1 FROM promotions r WHERE r.id = x.id AND x.shared FOR SHARE) s
              ON TRUE
       LEFT JOIN LATERAL (SELECT 1 FROM promotions r WHERE r.id = x.id AND NOT x.shared
                            FOR NO KEY UPDATE) e
              ON TRUE;
END $$;

CREATE OR REPLACE FUNCTION promotions_used_held(asks JSONB)
RETURNS TABLE (p BIGINT, uses BIGINT, customer_uses BIGINT, customer_value BIGINT, short BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    bound BIGINT := current_setting('max_connections')::BIGINT
                  + current_setting('max_prepared_transactions')::BIGINT;
BEGIN
    PERFORM promotion_locks_held(asks, bound);
    RETURN QUERY
    SELECT c.p, c.uses, c.n, c.v,
           COALESCE(c.r >= 2 * bound AND c.uses + bound > c.l, FALSE)
      FROM (SELECT a.p, a.l, a.r,
                   (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p
                     AND u.reversed_at IS NULL AND u.used_at >= a.gf AND u.used_at < a.gt) AS uses,
                   m.n, m.v
              FROM jsonb_to_recordset(asks) AS a(p BIGINT, gf TIMESTAMPTZ, gt TIMESTAMPTZ, c BIGINT,
                                                 cf TIMESTAMPTZ, ct TIMESTAMPTZ, l BIGINT, r BIGINT)
             CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v
                                   FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c
                                    AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) m) c;
END $$;

CREATE OR REPLACE FUNCTION promotion_counts_held(asks JSONB, org BIGINT, ver BIGINT)
RETURNS TABLE (p BIGINT, uses BIGINT, customer_uses BIGINT, customer_value BIGINT, short BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    bound BIGINT := current_setting('max_connections')::BIGINT
                  + current_setting('max_prepared_transactions')::BIGINT;
BEGIN
    PERFORM promotion_locks_held(asks, bound);
    RETURN QUERY
    SELECT c.p, c.uses + c.folded, c.customer_uses, c.customer_value,
           COALESCE(a.r >= 2 * bound AND c.uses + c.folded + bound > a.l, FALSE)
      FROM promotion_counts(asks, org, ver) c
      JOIN jsonb_to_recordset(asks) AS a(p BIGINT, l BIGINT, r BIGINT) ON a.p = c.p;
END $$;
