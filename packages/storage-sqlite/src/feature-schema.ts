import type { FeatureMigrations } from '@mdmkit/storage/sql';

// Same conventions as the core schema: integer milliseconds, BINARY collation, BLOBs. A token's
// fence and cursor sit on its row; every write runs under BEGIN IMMEDIATE, which orders fenced
// writes across processes.
const dep = `
CREATE TABLE IF NOT EXISTS dep_tokens (
  name TEXT PRIMARY KEY,
  sealed_credentials BLOB NOT NULL,
  access_token_expiry INTEGER NOT NULL,
  base_url TEXT, default_profile_uuid TEXT,
  terms_not_signed INTEGER,
  last_error TEXT,
  last_sync_at INTEGER,
  updated_at INTEGER NOT NULL,
  fence INTEGER NOT NULL DEFAULT 0,
  cursor TEXT, phase TEXT, cursor_fence INTEGER, cursor_updated_at INTEGER
);
CREATE TABLE IF NOT EXISTS dep_devices (
  token_name TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  op_type TEXT NOT NULL,
  op_date INTEGER,
  model TEXT, description TEXT, color TEXT, os TEXT, device_family TEXT, asset_tag TEXT,
  profile_status TEXT, profile_uuid TEXT,
  profile_assign_time INTEGER, profile_push_time INTEGER, device_assigned_date INTEGER,
  device_assigned_by TEXT,
  raw TEXT,
  deleted INTEGER NOT NULL,
  enrolled INTEGER NOT NULL,
  enrolled_at INTEGER,
  first_seen_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (token_name, serial_number)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dep_devices_serial ON dep_devices (serial_number);
CREATE TABLE IF NOT EXISTS dep_assignments (
  token_name TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  profile_uuid TEXT NOT NULL,
  status TEXT NOT NULL,
  assigned_at INTEGER NOT NULL,
  PRIMARY KEY (token_name, serial_number)
) WITHOUT ROWID;
`;

const secrets = `
CREATE TABLE IF NOT EXISTS secrets (
  owner TEXT NOT NULL,
  kind TEXT NOT NULL,
  sealed BLOB NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (owner, kind)
) WITHOUT ROWID;
`;

const audit = `
CREATE TABLE IF NOT EXISTS audit_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  owner TEXT NOT NULL,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_owner ON audit_events (owner, id);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor, id);
`;

const outbox = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  holder TEXT,
  lease_until INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at, seq);`;

const lifecycle = `
CREATE TABLE IF NOT EXISTS declaration_sets (
  name TEXT PRIMARY KEY,
  declarations TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS declaration_assignments (
  set_name TEXT NOT NULL,
  enrollment_id TEXT NOT NULL,
  PRIMARY KEY (set_name, enrollment_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS declaration_assignments_enrollment ON declaration_assignments (enrollment_id, set_name);
CREATE TABLE IF NOT EXISTS ddm_status (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  enrollment_id TEXT NOT NULL,
  report TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ddm_status_enrollment ON ddm_status (enrollment_id, id);
CREATE TABLE IF NOT EXISTS identity_certificates (
  hash TEXT PRIMARY KEY,
  enrollment_id TEXT NOT NULL,
  not_after INTEGER NOT NULL,
  trust TEXT NOT NULL,
  retire_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identity_certificates_expiry ON identity_certificates (not_after);
CREATE INDEX IF NOT EXISTS identity_certificates_enrollment ON identity_certificates (enrollment_id);
CREATE TABLE IF NOT EXISTS enrollment_blocks (
  enrollment_id TEXT PRIMARY KEY,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  blocked_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * The SQLite migrations of the DEP, secret, audit-event and outbox stores, registered per feature.
 *
 * @example
 * ```ts
 * import { sqliteFeatureMigrations } from '@mdmkit/storage-sqlite';
 * console.log(sqliteFeatureMigrations.map((f) => f.feature)); // ['dep', 'secrets', 'audit', 'outbox', 'lifecycle']
 * ```
 */
export const sqliteFeatureMigrations: FeatureMigrations<string>[] = [
  { feature: 'dep', migrations: [{ version: 1, name: 'tokens, devices, assignments', up: dep }] },
  { feature: 'secrets', migrations: [{ version: 1, name: 'sealed secrets', up: secrets }] },
  { feature: 'audit', migrations: [{ version: 1, name: 'audit events', up: audit }] },
  { feature: 'outbox', migrations: [{ version: 1, name: 'event outbox', up: outbox }] },
  {
    feature: 'lifecycle',
    migrations: [
      { version: 1, name: 'declaration sets, DDM status, identity certificates, blocks', up: lifecycle },
    ],
  },
];
