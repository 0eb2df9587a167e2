// The small interfaces must compose MdmStorage exactly: a method moved out of every small interface
// would still be implemented by the adapters, so only a pinned list notices it is no longer required.
import { SqlStorage } from '@mdmkit/storage/sql';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  BootstrapTokenStore,
  CertificateAssociationStore,
  CheckInStore,
  Closable,
  CommandDelivery,
  CommandEnqueuer,
  CommandResults,
  EnrollmentLookup,
  EnrollmentQueries,
  EnrollmentTransfer,
  FencedJobState,
  IssuedCertificateStore,
  JobLeases,
  MdmStorage,
  PushCertStore,
  QueueAdmin,
  SchemaMigrator,
  ScepChallengeStore,
  ScepNonceStore,
} from '../src/index';

type Small =
  | CheckInStore
  | EnrollmentLookup
  | BootstrapTokenStore
  | CertificateAssociationStore
  | EnrollmentTransfer
  | CommandEnqueuer
  | CommandDelivery
  | QueueAdmin
  | CommandResults
  | EnrollmentQueries
  | ScepChallengeStore
  | ScepNonceStore
  | IssuedCertificateStore
  | PushCertStore
  | JobLeases
  | FencedJobState
  | SchemaMigrator
  | Closable;
type KeysOfEach<U> = U extends unknown ? keyof U : never;

const methods = [
  'authenticate',
  'tokenUpdate',
  'userAuthenticate',
  'checkOut',
  'getEnrollment',
  'touchLastSeen',
  'putBootstrapToken',
  'getBootstrapToken',
  'associateCertificate',
  'replaceCertificate',
  'enrollmentForCertificate',
  'isCertificateAssociated',
  'exportEnrollments',
  'importEnrollments',
  'enqueueCommand',
  'nextCommand',
  'recordResult',
  'listQueue',
  'clearQueue',
  'getResults',
  'listHistory',
  'deleteFinishedCommands',
  'listEnrollments',
  'getPushInfo',
  'putChallenge',
  'consumeChallenge',
  'recordSenderNonce',
  'putIssuedCertificate',
  'getIssuedCertificate',
  'findIssuedCertificatesBySubject',
  'getPushCert',
  'putPushCert',
  'listPushCerts',
  'acquireLease',
  'renewLease',
  'releaseLease',
  'getLease',
  'writeJobState',
  'readJobState',
  'migrate',
  'close',
] as const;

describe('storage interfaces', () => {
  it('MdmStorage is exactly the union of the small interfaces, 41 methods', () => {
    expectTypeOf<keyof MdmStorage>().toEqualTypeOf<KeysOfEach<Small>>();
    expectTypeOf<keyof MdmStorage>().toEqualTypeOf<(typeof methods)[number]>();
    expect(new Set(methods).size).toBe(41);
  });

  it('SqlStorage implements every method', () => {
    const own = Object.getOwnPropertyNames(SqlStorage.prototype).filter((k) => k !== 'constructor');
    expect(own.filter((k) => k !== 'context').sort()).toEqual([...methods].sort());
  });
});
