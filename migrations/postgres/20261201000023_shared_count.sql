-- Closing carts that meet the same limited promotion far from its limit no longer wait for each
-- other (issue #16). A close adds at most one use of a promotion, and at most
-- `max_connections + max_prepared_transactions` transactions (the "bound") can be in flight at
-- once, across every instance. So a close that sees `uses + bound <= limit` after taking the
-- promotion's row FOR SHARE can add its use without waiting: whatever the transactions in
-- flight add, the uses stay within the limit. Closes near the limit (and every promotion with a
-- per-customer limit) take the row FOR NO KEY UPDATE as before, which waits for every FOR SHARE
-- holder, so their count is exact.
--
-- `asks` is migration 22's JSON; an ask that may be counted side by side also carries `l` (its
-- global limit) and `r` (the uses left when the close counted before its transaction): it is
-- taken FOR SHARE when `r >= 2 * bound`. `short` is true for a row taken FOR SHARE whose count
-- came within the bound of the limit meanwhile: the caller rolls back and closes again taking
-- every row FOR NO KEY UPDATE (no lock is ever upgraded, so two closes cannot deadlock on it).
-- Rows are taken in id order whatever their mode.
--
-- A row lock does not queue a new FOR SHARE behind a waiting FOR NO KEY UPDATE, so a steady
-- stream of shared closes could hold an exclusive one (or a console edit of the promotion) off
-- for as long as it lasts. Each row is therefore taken behind the same mode of an advisory lock
-- on (1601, id), which the lock manager grants in order: once an exclusive request waits, later
-- shared ones wait behind it. Console edits of a promotion take the exclusive advisory lock
-- before its row (`store::promotions`). Migration 22's function stays for instances not yet
-- upgraded: its FOR NO KEY UPDATE still conflicts with FOR SHARE (without the advisory lock's
-- order, so while both run, one of its closes may wait longer).
--
-- The bound assumes what writes uses is this application's closes, each on a connection of
-- its own (a session counted by `max_connections`); background workers do not write them.
CREATE FUNCTION promotions_used_held(asks JSONB)
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
                   (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p
                     AND u.reversed_at IS NULL AND u.used_at >= a.gf AND u.used_at < a.gt) AS uses,
                   m.n, m.v
              FROM jsonb_to_recordset(asks) AS a(p BIGINT, gf TIMESTAMPTZ, gt TIMESTAMPTZ, c BIGINT,
                                                 cf TIMESTAMPTZ, ct TIMESTAMPTZ, l BIGINT, r BIGINT)
             CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v
                                   FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c
                                    AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) m) c;
END $$;
