-- Tenants, keys, sites and chargers: the registry every other table hangs off.

CREATE TABLE service_settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
  tenant_id  text PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each key is kept: keys are 256-bit random secrets, so a fast
-- hash is not guessable; the prefix lets operators tell keys apart.
CREATE TABLE api_keys (
  key_id       text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  name         text NOT NULL,
  prefix       text NOT NULL,
  key_hash     text NOT NULL UNIQUE,
  scopes       text[] NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE sites (
  site_id    text PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  name       text NOT NULL,
  address    text,
  lat        double precision,
  lng        double precision,
  timezone   text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_tenant ON sites (tenant_id, created_at, site_id);

-- charge_point_id is the OCPP identity and unique across the whole service:
-- the WebSocket URL carries nothing else to tell tenants apart.
CREATE TABLE chargers (
  charge_point_id  text PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  site_id          text NOT NULL REFERENCES sites (site_id),
  password_hash    text,
  lenient          boolean NOT NULL DEFAULT false,
  vendor           text,
  model            text,
  serial_number    text,
  firmware_version text,
  registered_at    timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chargers_tenant_site ON chargers (tenant_id, site_id, charge_point_id);
CREATE INDEX chargers_site ON chargers (site_id);
