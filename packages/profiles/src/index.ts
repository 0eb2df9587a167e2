export * from './generated/index';
export { definePayload, type Payload, type PayloadDefinition, type PayloadOptions } from './define';
export { isMdmkitError, ProfileError, type ProfileErrorCode, type ProfileIssue } from './errors';
export type { OsName, OsSupport, Support } from './support';
