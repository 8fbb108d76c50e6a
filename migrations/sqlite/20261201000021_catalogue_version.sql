-- Carts look up a line's category, brand and attributes by SKU and a store's zone by its code
-- (issue #16). Each instance keeps what it looked up per org while `catalogue_version` stays
-- where it was; every write of the org's products or stores moves it, from whichever path or
-- instance it comes. (A zone's code cannot change and a zone in use cannot be deleted, so only
-- a store's row says which zone a store code is in.) SQLite has one writer: row triggers are
-- enough, and no lock order to keep.
ALTER TABLE orgs ADD COLUMN catalogue_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER products_catalogue_insert AFTER INSERT ON products
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id = NEW.org_id; END;
CREATE TRIGGER products_catalogue_update AFTER UPDATE ON products
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER products_catalogue_delete AFTER DELETE ON products
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id = OLD.org_id; END;

CREATE TRIGGER stores_catalogue_insert AFTER INSERT ON stores
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id = NEW.org_id; END;
CREATE TRIGGER stores_catalogue_update AFTER UPDATE ON stores
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER stores_catalogue_delete AFTER DELETE ON stores
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id = OLD.org_id; END;
