-- Messages of earned and reward promotions and coupons' expiry notices (seed 003
-- "Communication", seed 001 "expiry notifications") (PostgreSQL).

-- The outbox gains the messages on earning, the reminders before a held promotion's window
-- ends and the notice on the day a coupon expired unused; and a third channel, push (a POST to
-- the configured push webhook).
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('poc_reminder', 'coupon_reminder', 'resend', 'otp', 'issued', 'share', 'referral',
        'earned', 'hold_reminder', 'expiry_notice'));
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('email', 'sms', 'push'));

-- A coupon's optional expiry notice: sent at 10:00 org time on the first day the coupon is
-- no longer valid, when it expired unused (NULL: none).
ALTER TABLE offers ADD COLUMN expiry_notice_channel TEXT CHECK (expiry_notice_channel IN ('sms', 'email'));
ALTER TABLE offers ADD COLUMN expiry_notice_text TEXT;

-- Reminders look for the holds whose window ends on a day.
CREATE INDEX promotion_holds_ending ON promotion_holds(promotion_id, valid_till);
