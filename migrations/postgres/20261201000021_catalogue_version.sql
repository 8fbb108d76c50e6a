-- Carts look up a line's category, brand and attributes by SKU and a store's zone by its code
-- (issue #16). Each instance keeps what it looked up per org while `catalogue_version` stays
-- where it was; every write of the org's products, stores or zones moves it, from whichever
-- path or instance it comes (once per statement and org, so a CSV upload moves it once).
ALTER TABLE orgs ADD COLUMN catalogue_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_catalogue_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE orgs SET catalogue_version = catalogue_version + 1
    WHERE id IN (SELECT DISTINCT org_id FROM changed_new);
    RETURN NULL;
END $$;

CREATE FUNCTION bump_catalogue_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE orgs SET catalogue_version = catalogue_version + 1
    WHERE id IN (SELECT DISTINCT org_id FROM changed_old);
    RETURN NULL;
END $$;

CREATE TRIGGER products_catalogue_insert AFTER INSERT ON products
REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_new();
CREATE TRIGGER products_catalogue_update AFTER UPDATE ON products
REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_new();
CREATE TRIGGER products_catalogue_delete AFTER DELETE ON products
REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_old();

CREATE TRIGGER stores_catalogue_insert AFTER INSERT ON stores
REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_new();
CREATE TRIGGER stores_catalogue_update AFTER UPDATE ON stores
REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_new();
CREATE TRIGGER stores_catalogue_delete AFTER DELETE ON stores
REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_old();

CREATE TRIGGER zones_catalogue_update AFTER UPDATE ON zones
REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_new();
CREATE TRIGGER zones_catalogue_delete AFTER DELETE ON zones
REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_old();
