-- Messages of earned and reward promotions and coupons' expiry notices (seed 003
-- "Communication", seed 001 "expiry notifications") (SQLite).

-- The outbox gains the messages on earning, the reminders before a held promotion's window
-- ends and the notice on the day a coupon expired unused; and a third channel, push (a POST to
-- the configured push webhook). SQLite cannot alter a CHECK: the table is rebuilt.
CREATE TABLE outbox_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL CHECK (kind IN ('poc_reminder', 'coupon_reminder', 'resend', 'otp', 'issued', 'share', 'referral',
        'earned', 'hold_reminder', 'expiry_notice')),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    offer_id INTEGER,
    dedupe_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_attempt_at TEXT
);
INSERT INTO outbox_rebuilt (id, org_id, kind, channel, recipient, subject, body_text, body_html, status,
    attempts, last_error, next_attempt_at, lease_until, offer_id, dedupe_key, created_at, sent_at, last_attempt_at)
    SELECT id, org_id, kind, channel, recipient, subject, body_text, body_html, status,
    attempts, last_error, next_attempt_at, lease_until, offer_id, dedupe_key, created_at, sent_at, last_attempt_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_org ON outbox(org_id, id);
CREATE INDEX outbox_org_status ON outbox(org_id, status, id);

-- A coupon's optional expiry notice: sent at 10:00 org time on the first day the coupon is
-- no longer valid, when it expired unused (NULL: none).
ALTER TABLE offers ADD COLUMN expiry_notice_channel TEXT CHECK (expiry_notice_channel IN ('sms', 'email'));
ALTER TABLE offers ADD COLUMN expiry_notice_text TEXT;

-- Reminders look for the holds whose window ends on a day.
CREATE INDEX promotion_holds_ending ON promotion_holds(promotion_id, valid_till);
