-- Which instance holds a running job's lease, so a stopping instance gives back exactly its
-- own jobs (issue 14.9).
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
