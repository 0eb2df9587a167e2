// `@mdmkit/commands/schemas`: every generated validator and definition (`DeviceLockPayloadSchema`,
// `DeviceLockDefinition`, ...), for code that works with the schemas themselves. Applications build
// commands with the builders of the main entry point or of a domain entry point.
export { defineCommand } from './define';
export * from './generated/index';
