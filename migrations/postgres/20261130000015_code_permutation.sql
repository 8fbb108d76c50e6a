-- Randomized common codes (COD-4) are made along a keyed permutation of the random part's
-- space: the key (hex, secret) and how many positions have been used (issue 15.3).
ALTER TABLE offers ADD COLUMN random_key TEXT;
ALTER TABLE offers ADD COLUMN random_cursor BIGINT NOT NULL DEFAULT 0;
