import type { Migration } from '@mdmkit/storage';

// Plain SQL that MySQL 8 and MariaDB 10.6+ both run: no RETURNING, no sequences, no CHECK
// reliance. Keys are VARCHAR in utf8mb4_bin (case-sensitive, bytewise order); timestamps DATETIME(3)
// in UTC (the driver and the session both use UTC); payloads LONGBLOB.
const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
const key = 'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';

const v1: string[] = [
  `CREATE TABLE IF NOT EXISTS enrollments (
     id ${key} NOT NULL PRIMARY KEY,
     channel VARCHAR(8) NOT NULL,
     device_id ${key} NOT NULL,
     serial_number VARCHAR(255) NULL,
     user_id VARCHAR(255) NULL,
     user_short_name VARCHAR(255) NULL,
     user_long_name VARCHAR(255) NULL,
     topic VARCHAR(255) NULL,
     push_token VARCHAR(255) NULL,
     push_magic VARCHAR(255) NULL,
     unlock_token MEDIUMBLOB NULL,
     enabled TINYINT(1) NOT NULL DEFAULT 0,
     token_update_tally INT NOT NULL DEFAULT 0,
     bootstrap_token MEDIUMBLOB NULL,
     last_checkin_raw MEDIUMBLOB NULL,
     last_seen_at DATETIME(3) NULL,
     created_at DATETIME(3) NOT NULL,
     updated_at DATETIME(3) NOT NULL,
     KEY enrollments_device_id (device_id),
     KEY enrollments_serial_number (serial_number)) ${table}`,
  `CREATE TABLE IF NOT EXISTS certificate_associations (
     cert_hash ${key} NOT NULL PRIMARY KEY,
     enrollment_id ${key} NOT NULL,
     created_at DATETIME(3) NOT NULL,
     KEY certificate_associations_enrollment (enrollment_id)) ${table}`,
  // seq orders commands FIFO (within a priority) and is what queue rows point at: a BIGINT is a
  // smaller, faster key than the UUID text for the 100,000-row fan-out.
  `CREATE TABLE IF NOT EXISTS commands (
     command_uuid ${key} NOT NULL PRIMARY KEY,
     seq BIGINT NOT NULL AUTO_INCREMENT,
     request_type VARCHAR(255) NOT NULL,
     payload LONGBLOB NOT NULL,
     priority INT NOT NULL,
     not_before DATETIME(3) NULL,
     expires_at DATETIME(3) NULL,
     created_at DATETIME(3) NOT NULL,
     UNIQUE KEY commands_seq (seq)) ${table}`,
  // One row per unfinished (enrollment, command); a final result deletes it, so the hot pick only
  // ever reads an enrollment's pending commands.
  `CREATE TABLE IF NOT EXISTS queue (
     enrollment_id ${key} NOT NULL,
     command_seq BIGINT NOT NULL,
     priority INT NOT NULL,
     last_status VARCHAR(16) NULL,
     not_now_count INT NOT NULL DEFAULT 0,
     last_status_at DATETIME(3) NULL,
     PRIMARY KEY (enrollment_id, command_seq),
     KEY queue_command_seq (command_seq)) ${table}`,
  `CREATE TABLE IF NOT EXISTS results (
     id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
     enrollment_id ${key} NOT NULL,
     command_uuid ${key} NOT NULL,
     request_type VARCHAR(255) NOT NULL,
     status VARCHAR(32) NOT NULL,
     payload LONGBLOB NOT NULL,
     received_at DATETIME(3) NOT NULL,
     UNIQUE KEY results_enrollment_command (enrollment_id, command_uuid),
     KEY results_command_uuid (command_uuid),
     KEY results_history (enrollment_id, id)) ${table}`,
  `CREATE TABLE IF NOT EXISTS scep_challenges (
     challenge_hash ${key} NOT NULL PRIMARY KEY,
     expires_at DATETIME(3) NOT NULL) ${table}`,
  `CREATE TABLE IF NOT EXISTS scep_nonces (
     nonce ${key} NOT NULL PRIMARY KEY,
     expires_at DATETIME(3) NOT NULL,
     KEY scep_nonces_expires (expires_at)) ${table}`,
  `CREATE TABLE IF NOT EXISTS scep_issued_certificates (
     serial ${key} NOT NULL PRIMARY KEY,
     subject VARCHAR(4096) NOT NULL,
     not_before DATETIME(3) NOT NULL,
     not_after DATETIME(3) NOT NULL,
     requester VARCHAR(255) NULL,
     certificate_der MEDIUMBLOB NOT NULL,
     issued_at DATETIME(3) NOT NULL,
     KEY scep_issued_certificates_subject (subject(255))) ${table}`,
  `CREATE TABLE IF NOT EXISTS push_certificates (
     topic ${key} NOT NULL PRIMARY KEY,
     certificate_pem MEDIUMTEXT NOT NULL,
     sealed_key MEDIUMBLOB NOT NULL,
     version BIGINT NOT NULL,
     updated_at DATETIME(3) NOT NULL) ${table}`,
  // A released or expired lease keeps its row so the token only ever grows.
  `CREATE TABLE IF NOT EXISTS leases (
     name ${key} NOT NULL PRIMARY KEY,
     holder VARCHAR(255) NULL,
     token BIGINT NOT NULL,
     expires_at DATETIME(3) NOT NULL) ${table}`,
  `CREATE TABLE IF NOT EXISTS job_states (
     name ${key} NOT NULL PRIMARY KEY,
     state MEDIUMTEXT NOT NULL,
     token BIGINT NOT NULL,
     updated_at DATETIME(3) NOT NULL) ${table}`,
];

/**
 * The adapter's schema versions, applied in order by `migrate()`. Statements are idempotent
 * (IF NOT EXISTS) because MySQL commits DDL implicitly: a step interrupted halfway can run again.
 * Never edit a released entry.
 *
 * @example
 * ```ts
 * import { mysqlMigrations } from '@mdmkit/storage-mysql';
 * console.log(`newest schema version: ${mysqlMigrations.at(-1)?.version}`);
 * ```
 */
export const mysqlMigrations: Migration<string[]>[] = [{ version: 1, name: 'mdm core', up: v1 }];
