export { CryptoError, type CryptoErrorCode, isMdmkitError } from './errors';
