-- PostgreSQL's migration 23 adds the function that lets closing carts far from a promotion's
-- limit count its uses side by side; SQLite's one writer orders closes anyway. Nothing to change
-- here (the versions stay the same on both).
SELECT 1;
