-- Earned and reward promotions (seed 003): customers' events (idempotent by their id, the
-- answer kept), milestone trackers, and the promotions customers hold (PostgreSQL).

CREATE TABLE customer_events (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    event_id TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    amount BIGINT,
    transaction_number TEXT,
    attributes TEXT NOT NULL,
    -- What the event earned, as the API answered it (a retried event answers it again).
    result TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, event_id)
);
CREATE INDEX customer_events_customer ON customer_events(customer_id, occurred_at);

-- A customer's progress towards a milestone, per promotion and window (`life`, `2026-11`).
CREATE TABLE promotion_trackers (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    promotion_id BIGINT NOT NULL REFERENCES promotions(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    window_key TEXT NOT NULL,
    progress BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (promotion_id, customer_id, window_key)
);

-- An earned or acquired promotion a customer holds until `valid_till` (exclusive; NULL: until
-- the promotion ends). `reference` is the event id or the reward request id: unique per
-- source, so a retried request holds nothing more.
CREATE TABLE promotion_holds (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    promotion_id BIGINT NOT NULL REFERENCES promotions(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    source TEXT NOT NULL CHECK (source IN ('earned', 'reward')),
    reference TEXT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    valid_till TIMESTAMPTZ,
    cost_points BIGINT,
    cost_amount BIGINT,
    UNIQUE (org_id, source, reference, promotion_id)
);
CREATE INDEX promotion_holds_customer ON promotion_holds(customer_id, valid_till);
CREATE INDEX promotion_holds_promotion ON promotion_holds(promotion_id, customer_id);
