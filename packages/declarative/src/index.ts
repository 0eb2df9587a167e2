export { assetReferencesOf, type NamedAsset } from './asset-references';
export { canonicalJson, MAX_JSON_DEPTH } from './canonical-json';
export {
  type DeclarationReason,
  type DeclarationState,
  declarationStates,
} from './declaration-states';
export {
  type DeclarationSet,
  type DeclarationInput,
  type DeclarationSetOptions,
  createDeclarationSet,
  syncTimestamp,
} from './declaration-set';
export {
  type AssetReference,
  checkIdentifier,
  DECLARATION_KINDS,
  type Declaration,
  type DeclarationDefinition,
  type DeclarationKind,
  type DeclarationOptions,
  defineDeclaration,
  kindOfType,
  MAX_IDENTIFIER_BYTES,
  type StatusItemDefinition,
  serverTokenOf,
} from './define';
export {
  answerDeclarativeRequest,
  type DeclarativeAnswer,
  type DeclarativeAnswerOptions,
  type DeclarativeRequest,
  MAX_ENDPOINT_LENGTH,
} from './endpoint';
export { DeclarativeError, type DeclarativeErrorCode, type DeclarativeIssue, isMdmkitError } from './errors';
export * from './generated/index';
export {
  buildDeclaration,
  getDeclarationDefinition,
  isKnownDeclarationType,
  listDeclarationTypes,
  type PayloadOf,
} from './lookup';
export {
  localDateTimeIn,
  OS_UPDATE_IDENTIFIER,
  type OsUpdateDeadline,
  type OsUpdateDecision,
  type OsUpdateDevice,
  type OsUpdatePath,
  type OsUpdateTarget,
  osUpdateEnforcement,
  osUpdatePath,
  parseOsVersion,
} from './os-update';
export {
  DEFAULT_STATUS_LIMITS,
  type ParsedStatusReport,
  parseStatusReport,
  type RemovedStatusEntry,
  type StatusItemError,
  type StatusReportLimits,
} from './status-report';
export type { DeclarativeOsSupport, DeclarativeSupport, EnrollmentType, OsName } from './support';
