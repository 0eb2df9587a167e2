export { isMdmkitError, PlistParseError, type PlistErrorCode } from './errors';
