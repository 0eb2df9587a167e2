import type { Migration } from '@mdmkit/storage';

/**
 * SQLite schema steps. Released versions are never edited; add a new version instead.
 * Times are integer milliseconds since the epoch; ids compare with BINARY collation, so paging order
 * matches JavaScript string order for all ids without astral characters.
 */
export const sqliteMigrations: Migration<string>[] = [
  {
    version: 1,
    name: 'core mdm state',
    up: `
CREATE TABLE enrollments (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  device_id TEXT NOT NULL,
  serial_number TEXT,
  user_id TEXT,
  user_short_name TEXT,
  user_long_name TEXT,
  topic TEXT,
  push_token TEXT,
  push_magic TEXT,
  unlock_token BLOB,
  enabled INTEGER NOT NULL DEFAULT 0,
  token_update_tally INTEGER NOT NULL DEFAULT 0,
  last_seen_at INTEGER,
  bootstrap_token BLOB,
  last_message BLOB,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX enrollments_device ON enrollments (device_id);
CREATE INDEX enrollments_serial ON enrollments (serial_number);

CREATE TABLE cert_associations (
  cert_hash TEXT PRIMARY KEY,
  enrollment_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX cert_associations_enrollment ON cert_associations (enrollment_id);

CREATE TABLE commands (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL UNIQUE,
  request_type TEXT NOT NULL,
  payload BLOB NOT NULL,
  priority INTEGER NOT NULL,
  not_before INTEGER,
  expires_at INTEGER,
  enqueued_at INTEGER NOT NULL
);

-- one row per enrollment still waiting for a final result; deleted when it arrives
CREATE TABLE queue (
  enrollment_id TEXT NOT NULL,
  command_seq INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  last_status TEXT,
  not_now_count INTEGER NOT NULL DEFAULT 0,
  last_status_at INTEGER,
  PRIMARY KEY (enrollment_id, command_seq)
) WITHOUT ROWID;
-- no secondary indexes: a fan-out to 100,000 enrollments writes only this table's b-tree, and an
-- enrollment's pending entries (a handful) are read through the primary key and sorted

CREATE TABLE results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  enrollment_id TEXT NOT NULL,
  command_seq INTEGER NOT NULL,
  status TEXT NOT NULL,
  payload BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (enrollment_id, command_seq)
);
CREATE INDEX results_command ON results (command_seq);
CREATE INDEX results_history ON results (enrollment_id, seq);

CREATE TABLE scep_challenges (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE scep_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE scep_certificates (
  serial TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  requester TEXT,
  der BLOB NOT NULL,
  issued_at INTEGER NOT NULL
);
CREATE INDEX scep_certificates_subject ON scep_certificates (subject);

CREATE TABLE push_certs (
  topic TEXT PRIMARY KEY,
  certificate_pem TEXT NOT NULL,
  sealed_key BLOB NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT,
  token INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE job_state (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  token INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
  },
];
