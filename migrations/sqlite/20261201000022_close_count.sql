-- PostgreSQL's migration 22 adds the function a closing cart takes its limited promotions' rows
-- and counts their uses with; SQLite's one writer orders closes without row locks, and a close
-- counts with the open's statement. Nothing to change here (the versions stay the same on both).
SELECT 1;
