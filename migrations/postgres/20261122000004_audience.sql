-- Specific-customers-only lists: the customer identifiers an offer may be issued to (PostgreSQL).
CREATE TABLE offer_audience (
    offer_id BIGINT NOT NULL REFERENCES offers(id) ON DELETE CASCADE,
    identifier_type TEXT NOT NULL CHECK (identifier_type IN ('MOBILE', 'EMAIL', 'EXTERNAL_ID')),
    identifier TEXT NOT NULL,
    PRIMARY KEY (offer_id, identifier_type, identifier)
);

-- The list uploaded in a user's unfinished create-offer wizard.
CREATE TABLE draft_audience (
    user_id BIGINT NOT NULL REFERENCES users(id),
    identifier_type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    PRIMARY KEY (user_id, identifier_type, identifier)
);
