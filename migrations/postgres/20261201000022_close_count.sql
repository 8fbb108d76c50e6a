-- A closing cart takes the rows of the limited promotions it met, then counts their uses
-- (issue #16). One call does both, so the rows are held for one round trip less: closes that
-- meet the same promotions run one after another for the time the rows are held. Each
-- statement of a VOLATILE function takes a new snapshot under READ COMMITTED, so the count sees
-- the uses of every close that held those rows before. `asks` is the open count's JSON
-- (`store::promotion_limits::USAGE_PG`), the same count.
CREATE FUNCTION promotions_used_locked(asks JSONB)
RETURNS TABLE (p BIGINT, uses BIGINT, customer_uses BIGINT, customer_value BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    PERFORM 1 FROM promotions
     WHERE id IN (SELECT (x ->> 'p')::BIGINT FROM jsonb_array_elements(asks) x)
     ORDER BY id FOR NO KEY UPDATE;
    RETURN QUERY
    SELECT a.p,
           (SELECT COUNT(*) FROM promotion_uses u WHERE u.promotion_id = a.p AND u.reversed_at IS NULL
             AND u.used_at >= a.gf AND u.used_at < a.gt),
           m.n, m.v
      FROM jsonb_to_recordset(asks) AS a(p BIGINT, gf TIMESTAMPTZ, gt TIMESTAMPTZ, c BIGINT, cf TIMESTAMPTZ, ct TIMESTAMPTZ)
     CROSS JOIN LATERAL (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(u.discount), 0) AS BIGINT) AS v
                           FROM promotion_uses u WHERE u.promotion_id = a.p AND u.customer_id = a.c
                            AND u.reversed_at IS NULL AND u.used_at >= a.cf AND u.used_at < a.ct) m;
END $$;
