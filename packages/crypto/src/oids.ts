/** Object identifiers used by this package. */
export const OID = {
  // public keys
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
  ed25519: '1.3.101.112',
  rsassaPss: '1.2.840.113549.1.1.10',
  // signatures
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSHA1: '1.2.840.10045.4.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  // digests
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // CMS
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  // PKCS#9 / CSR
  emailAddress: '1.2.840.113549.1.9.1',
  challengePassword: '1.2.840.113549.1.9.7',
  extensionRequest: '1.2.840.113549.1.9.14',
  // X.509 extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  authorityKeyIdentifier: '2.5.29.35',
  // EKU purposes
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
  // attributes
  userId: '0.9.2342.19200300.100.1.1',
  // Apple push certificate extensions
  applePushDevelopment: '1.2.840.113635.100.6.3.1',
  applePushProduction: '1.2.840.113635.100.6.3.2',
} as const;

/** EKU names accepted wherever an extended key usage is given. */
export const EKU_BY_NAME: Readonly<Record<string, string>> = {
  serverAuth: OID.serverAuth,
  clientAuth: OID.clientAuth,
  codeSigning: OID.codeSigning,
  emailProtection: OID.emailProtection,
  timeStamping: OID.timeStamping,
  ocspSigning: OID.ocspSigning,
  any: OID.anyExtendedKeyUsage,
};

/** Hash names this package signs and verifies with. */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const HASH_BY_OID: Readonly<Record<string, HashName>> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

export const HASH_OID: Readonly<Record<HashName, string>> = {
  sha1: OID.sha1,
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};

/** Signature algorithm OID → key type and hash. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, { key: 'rsa' | 'ec'; hash: HashName }>> = {
  [OID.sha1WithRSAEncryption]: { key: 'rsa', hash: 'sha1' },
  [OID.sha256WithRSAEncryption]: { key: 'rsa', hash: 'sha256' },
  [OID.sha384WithRSAEncryption]: { key: 'rsa', hash: 'sha384' },
  [OID.sha512WithRSAEncryption]: { key: 'rsa', hash: 'sha512' },
  [OID.ecdsaWithSHA1]: { key: 'ec', hash: 'sha1' },
  [OID.ecdsaWithSHA256]: { key: 'ec', hash: 'sha256' },
  [OID.ecdsaWithSHA384]: { key: 'ec', hash: 'sha384' },
  [OID.ecdsaWithSHA512]: { key: 'ec', hash: 'sha512' },
};

export const RSA_SIGNATURE_OID: Readonly<Record<HashName, string>> = {
  sha1: OID.sha1WithRSAEncryption,
  sha256: OID.sha256WithRSAEncryption,
  sha384: OID.sha384WithRSAEncryption,
  sha512: OID.sha512WithRSAEncryption,
};

export const ECDSA_SIGNATURE_OID: Readonly<Record<HashName, string>> = {
  sha1: OID.ecdsaWithSHA1,
  sha256: OID.ecdsaWithSHA256,
  sha384: OID.ecdsaWithSHA384,
  sha512: OID.ecdsaWithSHA512,
};
