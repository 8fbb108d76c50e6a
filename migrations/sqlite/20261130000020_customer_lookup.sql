-- The customer page (issue #17): finding a customer by a contact, and one customer's
-- redemptions and trackers, without reading the org's whole tables.
CREATE INDEX customers_org_mobile ON customers(org_id, mobile);
CREATE INDEX customers_org_email ON customers(org_id, email);
CREATE INDEX redemptions_customer ON redemptions(customer_id, redeemed_at);
CREATE INDEX promotion_trackers_customer ON promotion_trackers(customer_id);
