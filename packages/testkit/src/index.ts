export { isMdmkitError, TestkitError, type TestkitErrorCode } from './errors';
export * from './mock-apns';
export * from './virtual-device';
export * from './mock-dep';
export * from './fleet';
