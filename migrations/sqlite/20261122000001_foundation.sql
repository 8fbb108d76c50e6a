-- Foundation: orgs, people, access, org masters, audit log (SQLite).
CREATE TABLE app_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL DEFAULT 'INR',
    time_zone TEXT NOT NULL DEFAULT 'Asia/Kolkata',
    code_prefix TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'marketing', 'csm', 'viewer')),
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    attempted_at TEXT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, attempted_at);
CREATE INDEX login_failures_ip ON login_failures(ip, attempted_at);

CREATE TABLE concepts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE zones (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE stores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    zone_id INTEGER NOT NULL REFERENCES zones(id),
    concept_id INTEGER REFERENCES concepts(id),
    UNIQUE (org_id, code)
);

CREATE TABLE tills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    store_id INTEGER NOT NULL REFERENCES stores(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);
CREATE INDEX tills_store ON tills(store_id);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE brands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE pocs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE consumers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('outbound', 'dvs', 'timeline', 'loyalty', 'third_party')),
    starts_on TEXT,
    ends_on TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    actor_user_id INTEGER REFERENCES users(id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id INTEGER,
    summary TEXT NOT NULL,
    details TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);
