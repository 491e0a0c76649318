-- The chargers list's default order (src/fleet/chargers.ts: the identity ignoring case, then exact,
-- byte order): a page of the first hundred reads a hundred index entries instead of sorting the
-- tenant's whole fleet.
CREATE INDEX IF NOT EXISTS chargers_tenant_list_order ON chargers (tenant_id, (lower(charge_point_id) COLLATE "C"), (charge_point_id COLLATE "C"));
