-- Issue 12 (PostgreSQL): a delivery run attempts each message once; console sessions kept in
-- the database (revocable on every instance); live instances for the cluster-wide rate limit.
ALTER TABLE outbox ADD COLUMN last_attempt_at TIMESTAMPTZ;

CREATE TABLE sessions (
    -- SHA-256 (hex) of the random session id the cookie carries; the id itself is not stored.
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id, last_seen_at);

CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    heartbeat_at TIMESTAMPTZ NOT NULL
);
