import { type FeatureMigrations, featureMigrationsOf } from '@mdmkit/storage/sql';

// Same conventions as the core schema: keys in the "C" collation (bytewise order, as the other
// adapters), timestamptz, bytea. A token's fence and cursor sit on its row, so one row lock orders
// every fenced write of that token.
const dep: string[] = [
  `CREATE TABLE IF NOT EXISTS dep_tokens (
     name text COLLATE "C" PRIMARY KEY,
     sealed_credentials bytea NOT NULL,
     access_token_expiry timestamptz NOT NULL,
     base_url text,
     default_profile_uuid text,
     terms_not_signed boolean,
     last_error text,
     last_sync_at timestamptz,
     updated_at timestamptz NOT NULL,
     fence bigint NOT NULL DEFAULT 0,
     cursor text,
     phase text,
     cursor_fence bigint,
     cursor_updated_at timestamptz)`,
  `CREATE TABLE IF NOT EXISTS dep_devices (
     token_name text COLLATE "C" NOT NULL,
     serial_number text COLLATE "C" NOT NULL,
     op_type text NOT NULL,
     op_date timestamptz,
     model text, description text, color text, os text, device_family text, asset_tag text,
     profile_status text, profile_uuid text,
     profile_assign_time timestamptz, profile_push_time timestamptz, device_assigned_date timestamptz,
     device_assigned_by text,
     raw text,
     deleted boolean NOT NULL,
     enrolled boolean NOT NULL,
     enrolled_at timestamptz,
     first_seen_at timestamptz NOT NULL,
     updated_at timestamptz NOT NULL,
     PRIMARY KEY (token_name, serial_number))`,
  'CREATE INDEX IF NOT EXISTS dep_devices_serial ON dep_devices (serial_number)',
  `CREATE TABLE IF NOT EXISTS dep_assignments (
     token_name text COLLATE "C" NOT NULL,
     serial_number text COLLATE "C" NOT NULL,
     profile_uuid text NOT NULL,
     status text NOT NULL,
     assigned_at timestamptz NOT NULL,
     PRIMARY KEY (token_name, serial_number))`,
];

const secrets: string[] = [
  `CREATE TABLE IF NOT EXISTS secrets (
     owner text COLLATE "C" NOT NULL,
     kind text COLLATE "C" NOT NULL,
     sealed bytea NOT NULL,
     version integer NOT NULL,
     created_at timestamptz NOT NULL,
     updated_at timestamptz NOT NULL,
     PRIMARY KEY (owner, kind))`,
];

const audit: string[] = [
  `CREATE TABLE IF NOT EXISTS audit_events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     actor text COLLATE "C" NOT NULL,
     action text NOT NULL,
     owner text COLLATE "C" NOT NULL,
     kind text NOT NULL,
     reason text NOT NULL,
     at timestamptz NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS audit_events_owner ON audit_events (owner, id)',
  'CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor, id)',
];

const outbox: string[] = [
  `CREATE TABLE IF NOT EXISTS outbox (
     seq bigint GENERATED ALWAYS AS IDENTITY,
     id text COLLATE "C" PRIMARY KEY,
     topic text NOT NULL,
     payload bytea NOT NULL,
     created_at timestamptz NOT NULL,
     due_at timestamptz NOT NULL,
     holder text,
     lease_until timestamptz,
     attempts integer NOT NULL DEFAULT 0,
     last_error text)`,
  'CREATE UNIQUE INDEX IF NOT EXISTS outbox_seq ON outbox (seq)',
  'CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at, seq)',
];

const lifecycle: string[] = [
  `CREATE TABLE IF NOT EXISTS declaration_sets (
     name text COLLATE "C" PRIMARY KEY,
     declarations text NOT NULL,
     updated_at timestamptz NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS declaration_assignments (
     set_name text COLLATE "C" NOT NULL,
     enrollment_id text COLLATE "C" NOT NULL,
     PRIMARY KEY (set_name, enrollment_id))`,
  'CREATE INDEX IF NOT EXISTS declaration_assignments_enrollment ON declaration_assignments (enrollment_id, set_name)',
  `CREATE TABLE IF NOT EXISTS ddm_status (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     enrollment_id text COLLATE "C" NOT NULL,
     report text NOT NULL,
     received_at timestamptz NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS ddm_status_enrollment ON ddm_status (enrollment_id, id)',
  `CREATE TABLE IF NOT EXISTS identity_certificates (
     hash text COLLATE "C" PRIMARY KEY,
     enrollment_id text COLLATE "C" NOT NULL,
     not_after timestamptz NOT NULL,
     trust text NOT NULL,
     retire_at timestamptz)`,
  'CREATE INDEX IF NOT EXISTS identity_certificates_expiry ON identity_certificates (not_after)',
  'CREATE INDEX IF NOT EXISTS identity_certificates_enrollment ON identity_certificates (enrollment_id)',
  `CREATE TABLE IF NOT EXISTS enrollment_blocks (
     enrollment_id text COLLATE "C" PRIMARY KEY,
     actor text NOT NULL,
     reason text NOT NULL,
     blocked_at timestamptz NOT NULL)`,
];

/**
 * The PostgreSQL migrations of the DEP, secret, audit-event and outbox stores, registered per feature.
 *
 * @example
 * ```ts
 * import { postgresFeatureMigrations } from '@mdmkit/storage-postgres';
 * console.log(postgresFeatureMigrations.map((f) => f.feature)); // ['dep', 'secrets', 'audit', 'outbox', 'lifecycle']
 * ```
 */
export const postgresFeatureMigrations: FeatureMigrations<string[]>[] = featureMigrationsOf({
  dep,
  secrets,
  audit,
  outbox,
  lifecycle,
});
