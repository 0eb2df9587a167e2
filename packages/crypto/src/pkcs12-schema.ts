// Schema classes for the PKCS#12 and PKCS#5 structures no @peculiar package defines: PBE parameters
// (RFC 7292 appendix C, RFC 8018 appendix A) and PKCS#7 EncryptedData (RFC 2315 §13). The library
// encodes and decodes them; only the field lists are written here.
import { EncryptedContentInfo } from '@peculiar/asn1-cms';
import { AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { fields } from './asn1';

/** pkcs-12PbeParams: salt and iteration count of the legacy PKCS#12 PBEs. @internal */
export class Pkcs12PbeParams {
  salt = new OctetString();
  iterations = 0;
}
fields(Pkcs12PbeParams, [
  ['salt', { type: OctetString }],
  ['iterations', { type: AsnPropTypes.Integer }],
]);

/** PBKDF2-params with a specified salt. @internal */
export class Pbkdf2Params {
  salt = new OctetString();
  iterationCount = 0;
  keyLength?: number;
  prf?: AlgorithmIdentifier;
}
fields(Pbkdf2Params, [
  ['salt', { type: OctetString }],
  ['iterationCount', { type: AsnPropTypes.Integer }],
  ['keyLength', { type: AsnPropTypes.Integer, optional: true }],
  ['prf', { type: AlgorithmIdentifier, optional: true }],
]);

/** PBES2-params: the key derivation and the encryption scheme. @internal */
export class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
}
fields(Pbes2Params, [
  ['keyDerivationFunc', { type: AlgorithmIdentifier }],
  ['encryptionScheme', { type: AlgorithmIdentifier }],
]);

/** PKCS#7 EncryptedData, the password-encrypted content of a PKCS#12 authenticated safe. @internal */
export class Pkcs7EncryptedData {
  version = 0;
  encryptedContentInfo = new EncryptedContentInfo();
}
fields(Pkcs7EncryptedData, [
  ['version', { type: AsnPropTypes.Integer }],
  ['encryptedContentInfo', { type: EncryptedContentInfo }],
]);
