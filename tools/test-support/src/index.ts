export { functionsWithoutExample } from './docs';
export { thrownBy } from './thrown';
export { peerAvailable, requirePeer, type Peer } from './peers';
export { mysqlTestUrl, postgresReachable, postgresTestUrl, uniqueName } from './databases';
export { PLAINTEXT_SECRETS, plaintextsIn, type SealedWriter, writeSealedSecrets } from './plaintext';
export { type AuditLog, reasonsSeenByFollower } from './audit-follow';
