// The per-OS facts are shared with the profile payloads; they live in @mdmkit/protocol.
export type { OsName, OsSupport, Support, SupportMode } from '@mdmkit/protocol';
