-- Carts look up a line's category, brand and attributes by SKU and a store's zone by its code
-- (issue #16). Each instance keeps what it looked up per org while `catalogue_version` stays
-- where it was; every write of the org's products, stores or zones moves it, from whichever
-- path or instance it comes.
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

CREATE TRIGGER zones_catalogue_update AFTER UPDATE ON zones
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER zones_catalogue_delete AFTER DELETE ON zones
BEGIN UPDATE orgs SET catalogue_version = catalogue_version + 1 WHERE id = OLD.org_id; END;
