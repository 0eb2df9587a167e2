export {
  AccessRight,
  ALL_ACCESS_RIGHTS,
  accessRightBits,
  hasAccessRights,
  knownAccessRightNames,
  requiredAccessRights,
} from './access-rights';
export { type Availability, type AvailabilityContext, availability, isAvailable } from './availability';
export type {
  Command,
  CommandBuildOptions,
  CommandDefinition,
  TargetPlatform,
} from './define';
export { CommandError, type CommandErrorCode } from './errors';
export * from './generated/builders';
export { type RequestType, schemaRelease } from './generated/registry';
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
export { unchecked } from './unchecked';
export { compareVersions } from './versions';
export { encodeCommand, isMdmkitError, rawCommand } from '@mdmkit/protocol';
