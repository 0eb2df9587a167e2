export {
  AccessRight,
  ALL_ACCESS_RIGHTS,
  accessRightBits,
  hasAccessRights,
  knownAccessRightNames,
  requiredAccessRights,
} from './access-rights';
export {
  type Availability,
  type AvailabilityContext,
  availability,
  compareVersions,
  isAvailable,
} from './availability';
export { type BuildOptions, type Command, type CommandDefinition, defineCommand } from './define';
export * from './generated/index';
export {
  buildCommand,
  type DefinitionOf,
  getCommand,
  isKnownRequestType,
  listRequestTypes,
  type PayloadOf,
  type ResponseOf,
} from './lookup';
export { decodeReportDictFor, decodeReportFor, type TypedReport } from './report';
export type { OsName, OsSupport, Support, SupportMode } from './support';
export { encodeCommand, rawCommand } from '@mdmkit/protocol';
