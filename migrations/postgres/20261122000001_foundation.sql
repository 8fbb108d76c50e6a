-- Foundation: orgs, people, access, org masters, audit log (PostgreSQL).
CREATE TABLE app_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL DEFAULT 'INR',
    time_zone TEXT NOT NULL DEFAULT 'Asia/Kolkata',
    code_prefix TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'marketing', 'csm', 'viewer')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, attempted_at);
CREATE INDEX login_failures_ip ON login_failures(ip, attempted_at);

CREATE TABLE concepts (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE zones (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE stores (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    zone_id BIGINT NOT NULL REFERENCES zones(id),
    concept_id BIGINT REFERENCES concepts(id),
    UNIQUE (org_id, code)
);

CREATE TABLE tills (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    store_id BIGINT NOT NULL REFERENCES stores(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);
CREATE INDEX tills_store ON tills(store_id);

CREATE TABLE categories (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE brands (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE pocs (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE consumers (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('outbound', 'dvs', 'timeline', 'loyalty', 'third_party')),
    starts_on DATE,
    ends_on DATE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    actor_user_id BIGINT REFERENCES users(id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id BIGINT,
    summary TEXT NOT NULL,
    details TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);
