-- Carts look up a line's category, brand and attributes by SKU and a store's zone by its code
-- (issue #16). Each instance keeps what it looked up per org while `catalogue_version` stays
-- where it was; every write of the org's products or stores moves it, from whichever path or
-- instance it comes. (A zone's code cannot change and a zone in use cannot be deleted, so only
-- a store's row says which zone a store code is in.)
ALTER TABLE orgs ADD COLUMN catalogue_version BIGINT NOT NULL DEFAULT 0;

-- Moves the org's version once per transaction (a transaction-local setting remembers it), so
-- an upload of many statements updates the org's row once. The store's write paths call it as
-- their first statement: the org's row is then held before any product or store row, in the
-- order promotion writes and `lock_org` hold it, and two catalogue writes cannot deadlock.
CREATE FUNCTION bump_catalogue(org BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('offerdesk.catalogue_moved_' || org, true) IS DISTINCT FROM 'yes' THEN
        UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id = org;
        PERFORM set_config('offerdesk.catalogue_moved_' || org, 'yes', true);
    END IF;
END $$;

-- Any other write of products or stores moves it too, once per statement's orgs.
CREATE FUNCTION bump_catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM bump_catalogue(org_id) FROM (SELECT DISTINCT org_id FROM changed_new) c;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bump_catalogue(org_id) FROM (SELECT DISTINCT org_id FROM changed_old) c;
    ELSE
        PERFORM bump_catalogue(org_id) FROM (SELECT org_id FROM changed_new
            UNION SELECT org_id FROM changed_old) c;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_catalogue_insert AFTER INSERT ON products
REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_changed();
CREATE TRIGGER products_catalogue_update AFTER UPDATE ON products
REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_changed();
CREATE TRIGGER products_catalogue_delete AFTER DELETE ON products
REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_changed();

CREATE TRIGGER stores_catalogue_insert AFTER INSERT ON stores
REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_changed();
CREATE TRIGGER stores_catalogue_update AFTER UPDATE ON stores
REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_changed();
CREATE TRIGGER stores_catalogue_delete AFTER DELETE ON stores
REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_changed();
