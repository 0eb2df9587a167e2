import type { Migration } from '@mdmkit/storage';

// Keys use the "C" collation so ordering and paging by id are bytewise, the same on every server
// locale and the same as the other adapters. Timestamps are timestamptz; payloads bytea.
const v1: string[] = [
  `CREATE TABLE enrollments (
     id text COLLATE "C" PRIMARY KEY,
     channel text NOT NULL CHECK (channel IN ('device', 'user')),
     device_id text COLLATE "C" NOT NULL,
     serial_number text,
     user_id text,
     user_short_name text,
     user_long_name text,
     topic text,
     push_token text,
     push_magic text,
     unlock_token bytea,
     enabled boolean NOT NULL DEFAULT false,
     token_update_tally integer NOT NULL DEFAULT 0,
     bootstrap_token bytea,
     last_checkin_raw bytea,
     last_seen_at timestamptz,
     created_at timestamptz NOT NULL,
     updated_at timestamptz NOT NULL)`,
  'CREATE INDEX enrollments_device_id ON enrollments (device_id)',
  'CREATE INDEX enrollments_serial_number ON enrollments (serial_number)',
  `CREATE TABLE certificate_associations (
     cert_hash text COLLATE "C" PRIMARY KEY,
     enrollment_id text COLLATE "C" NOT NULL,
     created_at timestamptz NOT NULL)`,
  'CREATE INDEX certificate_associations_enrollment ON certificate_associations (enrollment_id)',
  // seq orders commands FIFO (within a priority) and is what queue rows point at: a bigint is a
  // smaller, faster key than the UUID text for the 100,000-row fan-out.
  `CREATE TABLE commands (
     command_uuid text COLLATE "C" PRIMARY KEY,
     seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
     request_type text NOT NULL,
     payload bytea NOT NULL,
     priority integer NOT NULL,
     not_before timestamptz,
     expires_at timestamptz,
     created_at timestamptz NOT NULL)`,
  // One row per unfinished (enrollment, command). A final result deletes the row, so the hot
  // next-command lookup only ever scans an enrollment's pending commands.
  `CREATE TABLE queue (
     enrollment_id text COLLATE "C" NOT NULL,
     command_seq bigint NOT NULL,
     priority integer NOT NULL,
     last_status text,
     not_now_count integer NOT NULL DEFAULT 0,
     last_status_at timestamptz,
     PRIMARY KEY (enrollment_id, command_seq))`,
  // No index on command_seq: every fan-out row would pay for it, and only deleteFinishedCommands
  // (a rare maintenance call, served by a hash anti-join) would use it.
  // Keyed by (enrollment, receive order): the history listing reads the primary key backwards. One
  // more index serves lookups by command (and the duplicate check, by command and enrollment). No
  // unique constraint is needed for idempotency: only the transaction that deletes the queue row
  // inserts the result, and the queue row exists once. (Version 2 adds the key all the same.)
  `CREATE TABLE results (
     id bigint GENERATED ALWAYS AS IDENTITY,
     enrollment_id text COLLATE "C" NOT NULL,
     command_uuid text COLLATE "C" NOT NULL,
     request_type text NOT NULL,
     status text NOT NULL,
     payload bytea NOT NULL,
     received_at timestamptz NOT NULL,
     PRIMARY KEY (enrollment_id, id))`,
  'CREATE INDEX results_command ON results (command_uuid, enrollment_id)',
  `CREATE TABLE scep_challenges (
     challenge_hash text COLLATE "C" PRIMARY KEY,
     expires_at timestamptz NOT NULL)`,
  `CREATE TABLE scep_nonces (
     nonce text COLLATE "C" PRIMARY KEY,
     expires_at timestamptz NOT NULL)`,
  'CREATE INDEX scep_nonces_expires ON scep_nonces (expires_at)',
  `CREATE TABLE scep_issued_certificates (
     serial text COLLATE "C" PRIMARY KEY,
     subject text NOT NULL,
     not_before timestamptz NOT NULL,
     not_after timestamptz NOT NULL,
     requester text,
     certificate_der bytea NOT NULL,
     issued_at timestamptz NOT NULL)`,
  'CREATE INDEX scep_issued_certificates_subject ON scep_issued_certificates (subject)',
  `CREATE TABLE push_certificates (
     topic text COLLATE "C" PRIMARY KEY,
     certificate_pem text NOT NULL,
     sealed_key bytea NOT NULL,
     version bigint NOT NULL,
     updated_at timestamptz NOT NULL)`,
  // A released or expired lease keeps its row so the token only ever grows.
  `CREATE TABLE leases (
     name text COLLATE "C" PRIMARY KEY,
     holder text,
     token bigint NOT NULL,
     expires_at timestamptz NOT NULL)`,
  `CREATE TABLE job_states (
     name text COLLATE "C" PRIMARY KEY,
     state text NOT NULL,
     token bigint NOT NULL,
     updated_at timestamptz NOT NULL)`,
];

// The database itself keeps one result per (enrollment, command), as the other adapters' schemas
// do, rather than trusting every writer to go through the queue row. Version 1 had no such key, so
// any pair stored twice keeps its first result. The unique index also serves lookups by command,
// which the index it replaces was for.
const v2: string[] = [
  `DELETE FROM results r USING results k
   WHERE r.command_uuid = k.command_uuid AND r.enrollment_id = k.enrollment_id AND r.id > k.id`,
  'CREATE UNIQUE INDEX results_command_enrollment ON results (command_uuid, enrollment_id)',
  'DROP INDEX results_command',
];

/**
 * The adapter's schema versions, applied in order by `migrate()`. Never edit a released entry.
 *
 * @example
 * ```ts
 * import { postgresMigrations } from '@mdmkit/storage-postgres';
 * console.log(`newest schema version: ${postgresMigrations.at(-1)?.version}`);
 * ```
 */
export const postgresMigrations: Migration<string[]>[] = [
  { version: 1, name: 'mdm core', up: v1 },
  { version: 2, name: 'one result per enrollment and command', up: v2 },
];
