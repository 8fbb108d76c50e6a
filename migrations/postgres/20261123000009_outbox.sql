-- The notification outbox (REM-3): every message the system sends is a row first (PostgreSQL).
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL CHECK (kind IN ('poc_reminder', 'coupon_reminder', 'resend')),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    -- skipped: decided not to send (e.g. a reminder more than a day late); last_error says why.
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ,
    offer_id BIGINT,
    -- What the message is for, unique: a reminder is made once however often or wherever the
    -- scheduler runs (e.g. poc:OFFER:POC:DAY, cr:ISSUAL:POSITION).
    dedupe_key TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_org ON outbox(org_id, id);
-- Coupon-expiry reminders find the issues whose coupons end on a day.
CREATE INDEX issuals_offer_till ON issuals(offer_id, valid_till, id);
