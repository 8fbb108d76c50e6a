-- A password change ends the user's other sessions (SQLite).
ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
