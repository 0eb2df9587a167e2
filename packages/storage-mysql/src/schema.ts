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
  // Record a report and pick the next command in ONE round trip: the whole transaction runs inside
  // the server, so its row locks are held for microseconds instead of across several client round
  // trips, which is what keeps the queue free of lock pile-ups under load. Lock order: queue row, then
  // result row. Returns one row: changed (rows finished or NotNow'd), existed (a result was already
  // stored), then the picked command's columns (all NULL when there is none).
  'DROP PROCEDURE IF EXISTS mdmkit_record_result',
  `CREATE PROCEDURE mdmkit_record_result(
     IN p_enrollment VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
     IN p_uuid VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
     IN p_status VARCHAR(32),
     IN p_payload LONGBLOB,
     IN p_now DATETIME(3))
   MODIFIES SQL DATA
   BEGIN
     DECLARE v_seq BIGINT DEFAULT NULL;
     DECLARE v_type VARCHAR(255) DEFAULT NULL;
     DECLARE v_changed INT DEFAULT 0;
     DECLARE v_existed INT DEFAULT 0;
     DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
     START TRANSACTION;
     SELECT seq, request_type INTO v_seq, v_type FROM commands WHERE command_uuid = p_uuid;
     IF v_seq IS NOT NULL THEN
       IF p_status = 'NotNow' THEN
         UPDATE queue SET last_status = 'NotNow', not_now_count = not_now_count + 1, last_status_at = p_now
         WHERE enrollment_id = p_enrollment AND command_seq = v_seq;
         SET v_changed = ROW_COUNT();
       ELSE
         DELETE FROM queue WHERE enrollment_id = p_enrollment AND command_seq = v_seq;
         SET v_changed = ROW_COUNT();
         IF v_changed > 0 THEN
           INSERT INTO results (enrollment_id, command_uuid, request_type, status, payload, received_at)
           VALUES (p_enrollment, p_uuid, v_type, p_status, p_payload, p_now);
         END IF;
       END IF;
     END IF;
     IF v_changed = 0 THEN
       SELECT COUNT(*) INTO v_existed FROM results WHERE enrollment_id = p_enrollment AND command_uuid = p_uuid;
     END IF;
     SELECT v_changed AS changed, v_existed AS existed, n.*
     FROM (SELECT 1 AS one) AS o LEFT JOIN (
       SELECT c.command_uuid, c.request_type, c.payload, c.priority, c.not_before, c.expires_at, c.created_at
       FROM queue q JOIN commands c ON c.seq = q.command_seq
       WHERE q.enrollment_id = p_enrollment
         AND (c.not_before IS NULL OR c.not_before <= p_now)
         AND (c.expires_at IS NULL OR c.expires_at > p_now)
         AND (p_status <> 'NotNow' OR q.last_status IS NULL)
       ORDER BY q.priority DESC, q.command_seq LIMIT 1) AS n ON TRUE;
     COMMIT;
   END`,
];

/**
 * Version 2: the procedure reads committed rows. Under REPEATABLE READ its first plain read fixed a
 * snapshot before it waited for the queue row, so after another process finished the same command it
 * answered `duplicate` together with a next command whose result that process had already stored.
 */
const recordResultV1 = v1.find((sql) => sql.startsWith('CREATE PROCEDURE mdmkit_record_result')) ?? '';
const v2: string[] = [
  'DROP PROCEDURE IF EXISTS mdmkit_record_result',
  recordResultV1.replace(
    'START TRANSACTION;',
    'SET TRANSACTION ISOLATION LEVEL READ COMMITTED;\n     START TRANSACTION;',
  ),
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
export const mysqlMigrations: Migration<string[]>[] = [
  { version: 1, name: 'mdm core', up: v1 },
  { version: 2, name: 'record result reads committed rows', up: v2 },
];
