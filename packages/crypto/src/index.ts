export { CryptoError, type CryptoErrorCode, isMdmkitError } from './errors';
export { type PemBlock, pemDecode, pemDecodeAll, pemEncode } from './pem';
export {
  type DistinguishedName,
  encodeName,
  type NameAttribute,
  type NameInput,
  toDistinguishedName,
} from './name';
export { OID } from './oids';
export {
  type Certificate,
  type Extension,
  KEY_USAGE_NAMES,
  type KeyUsageName,
  parseCertificate,
  parseCertificates,
  type SubjectAltNames,
} from './certificate';
export {
  exportPrivateKey,
  exportPublicKey,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  type KeyPair,
  type KeySpec,
  keysMatch,
  type PrivateKeyFormat,
  type PublicKeyFormat,
} from './keys';
export type { HashName, Signer } from './signer';
export {
  createSelfSignedCa,
  type ExtensionInput,
  type IssueCertificateOptions,
  issueCertificate,
  randomSerialNumber,
  type SelfSignedCaOptions,
} from './issue';
export { type ChainOptions, verifyCertificateChain, verifyCertificateSignature } from './chain';
export { type CreateCsrOptions, type Csr, createCsr, type ParseCsrOptions, parseCsr } from './csr';
export {
  type CmsAttribute,
  createCertsOnlyCms,
  parseCertsOnlyCms,
  type SignCmsOptions,
  signCms,
  type VerifiedCms,
  type VerifyCmsOptions,
  verifyCms,
} from './signed-data';
export { verifyMdmSignature, verifyMdmSignatureSync } from './mdm-signature';
export { certificateCacheStats, clearCertificateCache, configureCertificateCache } from './cert-cache';
export {
  createLocalKeyProvider,
  createStaticKeyProvider,
  type KeyProvider,
  type LocalKeyProvider,
  openSecret,
  rewrapSecret,
  type SealOptions,
  sealedKeyId,
  sealSecret,
} from './sealed';
export type { ContentCipher, KeyTransport, RecipientCertificate } from './enveloped-data';
export {
  type DecryptCmsOptions,
  type DecryptedCms,
  decryptCms,
  decryptCmsSync,
  type RecipientKey,
} from './enveloped-decrypt';
export { type EncryptCmsOptions, encryptCms, encryptCmsSync } from './enveloped-encrypt';
export {
  type ExportPkcs12Options,
  exportPkcs12,
  type ImportPkcs12Options,
  importPkcs12,
  type Pkcs12Contents,
} from './pkcs12';
export { type MimeEntity, parseMimeEntity, unwrapSmime } from './smime';
export {
  type OAuth1Credentials,
  oauth1Header,
  oauth1Signature,
  parseOAuth1Header,
  percentEncode,
  verifyOAuth1Signature,
} from './oauth1';
export {
  octetStringAttribute,
  printableStringAttribute,
  readOctetStringAttributeValue,
  readStringAttributeValue,
} from './attribute-values';
export {
  decodeIssuerAndSerial,
  decodeIssuerAndSubject,
  encodeIssuerAndSerial,
  encodeIssuerAndSubject,
  type IssuerAndSerial,
  type IssuerAndSubject,
} from './scep-structures';
