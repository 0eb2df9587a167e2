export { functionsWithoutExample } from './docs';
export { thrownBy } from './thrown';
export { peerAvailable, requirePeer, type Peer } from './peers';
export { mysqlTestUrl, postgresReachable, postgresTestUrl, uniqueName } from './databases';
