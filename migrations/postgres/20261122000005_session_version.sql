-- A password change ends the user's other sessions (PostgreSQL).
ALTER TABLE users ADD COLUMN session_version BIGINT NOT NULL DEFAULT 0;
