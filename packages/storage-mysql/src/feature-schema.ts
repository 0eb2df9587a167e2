import { type FeatureMigrations, featureMigrationsOf } from '@mdmkit/storage/sql';

// Same conventions as the core schema: keys VARCHAR in utf8mb4_bin (bytewise order), DATETIME(3) in
// UTC, LONGBLOB for sealed bytes. DDL commits implicitly, so every statement is idempotent. A
// token's fence and cursor sit on its row, so one row lock orders every fenced write of that token.
const table = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';
const key = 'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';
const text = 'MEDIUMTEXT NULL';

const dep: string[] = [
  `CREATE TABLE IF NOT EXISTS dep_tokens (
     name ${key} NOT NULL PRIMARY KEY,
     sealed_credentials LONGBLOB NOT NULL,
     access_token_expiry DATETIME(3) NOT NULL,
     base_url ${text}, default_profile_uuid ${text},
     terms_not_signed TINYINT(1) NULL,
     last_error ${text},
     last_sync_at DATETIME(3) NULL,
     updated_at DATETIME(3) NOT NULL,
     fence BIGINT NOT NULL DEFAULT 0,
     cursor_value ${text},
     phase VARCHAR(8) NULL,
     cursor_fence BIGINT NULL,
     cursor_updated_at DATETIME(3) NULL) ${table}`,
  `CREATE TABLE IF NOT EXISTS dep_devices (
     token_name ${key} NOT NULL,
     serial_number ${key} NOT NULL,
     op_type VARCHAR(16) NOT NULL,
     op_date DATETIME(3) NULL,
     model ${text}, description ${text}, color ${text}, os ${text}, device_family ${text}, asset_tag ${text},
     profile_status ${text}, profile_uuid ${text},
     profile_assign_time DATETIME(3) NULL, profile_push_time DATETIME(3) NULL, device_assigned_date DATETIME(3) NULL,
     device_assigned_by ${text},
     raw ${text},
     deleted TINYINT(1) NOT NULL,
     enrolled TINYINT(1) NOT NULL,
     enrolled_at DATETIME(3) NULL,
     first_seen_at DATETIME(3) NOT NULL,
     updated_at DATETIME(3) NOT NULL,
     PRIMARY KEY (token_name, serial_number),
     KEY dep_devices_serial (serial_number)) ${table}`,
  `CREATE TABLE IF NOT EXISTS dep_assignments (
     token_name ${key} NOT NULL,
     serial_number ${key} NOT NULL,
     profile_uuid ${key} NOT NULL,
     status ${key} NOT NULL,
     assigned_at DATETIME(3) NOT NULL,
     PRIMARY KEY (token_name, serial_number)) ${table}`,
];

const secrets: string[] = [
  `CREATE TABLE IF NOT EXISTS secrets (
     owner ${key} NOT NULL,
     kind ${key} NOT NULL,
     sealed LONGBLOB NOT NULL,
     version INT NOT NULL,
     created_at DATETIME(3) NOT NULL,
     updated_at DATETIME(3) NOT NULL,
     PRIMARY KEY (owner, kind)) ${table}`,
];

const audit: string[] = [
  `CREATE TABLE IF NOT EXISTS audit_events (
     id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
     actor ${key} NOT NULL,
     action ${key} NOT NULL,
     owner ${key} NOT NULL,
     kind ${key} NOT NULL,
     reason MEDIUMTEXT NOT NULL,
     at DATETIME(3) NOT NULL,
     KEY audit_events_owner (owner, id),
     KEY audit_events_actor (actor, id)) ${table}`,
];

const outbox: string[] = [
  `CREATE TABLE IF NOT EXISTS outbox (
     seq BIGINT NOT NULL AUTO_INCREMENT,
     id ${key} NOT NULL,
     topic ${key} NOT NULL,
     payload LONGBLOB NOT NULL,
     created_at DATETIME(3) NOT NULL,
     due_at DATETIME(3) NOT NULL,
     holder ${key} NULL,
     lease_until DATETIME(3) NULL,
     attempts INT NOT NULL DEFAULT 0,
     last_error TEXT NULL,
     PRIMARY KEY (seq),
     UNIQUE KEY outbox_id (id),
     KEY outbox_due (due_at, seq)) ${table}`,
];

const lifecycle: string[] = [
  `CREATE TABLE IF NOT EXISTS declaration_sets (
     name ${key} NOT NULL PRIMARY KEY,
     declarations LONGTEXT NOT NULL,
     updated_at DATETIME(3) NOT NULL) ${table}`,
  `CREATE TABLE IF NOT EXISTS declaration_assignments (
     set_name ${key} NOT NULL,
     enrollment_id ${key} NOT NULL,
     PRIMARY KEY (set_name, enrollment_id),
     KEY declaration_assignments_enrollment (enrollment_id, set_name)) ${table}`,
  `CREATE TABLE IF NOT EXISTS ddm_status (
     id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
     enrollment_id ${key} NOT NULL,
     report LONGTEXT NOT NULL,
     received_at DATETIME(3) NOT NULL,
     KEY ddm_status_enrollment (enrollment_id, id)) ${table}`,
  `CREATE TABLE IF NOT EXISTS identity_certificates (
     hash ${key} NOT NULL PRIMARY KEY,
     enrollment_id ${key} NOT NULL,
     not_after DATETIME(3) NOT NULL,
     trust VARCHAR(16) NOT NULL,
     retire_at DATETIME(3) NULL,
     KEY identity_certificates_expiry (not_after),
     KEY identity_certificates_enrollment (enrollment_id)) ${table}`,
  `CREATE TABLE IF NOT EXISTS enrollment_blocks (
     enrollment_id ${key} NOT NULL PRIMARY KEY,
     actor ${key} NOT NULL,
     reason MEDIUMTEXT NOT NULL,
     blocked_at DATETIME(3) NOT NULL) ${table}`,
];

/**
 * The MySQL/MariaDB migrations of the DEP, secret, audit-event and outbox stores, registered per feature.
 *
 * @example
 * ```ts
 * import { mysqlFeatureMigrations } from '@mdmkit/storage-mysql';
 * console.log(mysqlFeatureMigrations.map((f) => f.feature)); // ['dep', 'secrets', 'audit', 'outbox', 'lifecycle']
 * ```
 */
export const mysqlFeatureMigrations: FeatureMigrations<string[]>[] = featureMigrationsOf({
  dep,
  secrets,
  audit,
  outbox,
  lifecycle,
});
