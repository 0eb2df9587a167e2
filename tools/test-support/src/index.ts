export { functionsWithoutExample } from './docs';
export { peerAvailable, requirePeer, type Peer } from './peers';
export { mysqlTestUrl, postgresTestUrl, uniqueName } from './databases';
