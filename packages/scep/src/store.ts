export type { IssuedCertificateRecord, ScepStore } from '@mdmkit/storage';
