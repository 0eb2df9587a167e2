import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as apns from '../../../packages/apns/src/index';
import * as commands from '../../../packages/commands/src/index';
import * as crypto from '../../../packages/crypto/src/index';
import * as declarative from '../../../packages/declarative/src/index';
import * as dep from '../../../packages/dep/src/index';
import * as http from '../../../packages/http/src/index';
import * as plist from '../../../packages/plist/src/index';
import * as profiles from '../../../packages/profiles/src/index';
import * as protocol from '../../../packages/protocol/src/index';
import * as scep from '../../../packages/scep/src/index';
import * as server from '../../../packages/server/src/index';
import * as storage from '../../../packages/storage/src/index';
import * as testkit from '../../../packages/testkit/src/index';

// Packages of one layer may not import each other, so each carries its own isMdmkitError; all test
// the same Symbol.for brand. This test holds every copy to one verdict on every package's errors.
type ErrorClass = new (code: never, message: string) => Error;
const packages: Record<
  string,
  { isMdmkitError: (e: unknown) => boolean; errorClass: ErrorClass; code: string }
> = {
  apns: { isMdmkitError: apns.isMdmkitError, errorClass: apns.ApnsError as ErrorClass, code: 'BAD_REQUEST' },
  commands: {
    isMdmkitError: commands.isMdmkitError,
    errorClass: commands.CommandError as ErrorClass,
    code: 'UNKNOWN_ACCESS_RIGHT',
  },
  crypto: {
    isMdmkitError: crypto.isMdmkitError,
    errorClass: crypto.CryptoError as ErrorClass,
    code: 'INVALID_KEY',
  },
  dep: { isMdmkitError: dep.isMdmkitError, errorClass: dep.DepError as ErrorClass, code: 'INVALID_TOKEN' },
  declarative: {
    isMdmkitError: declarative.isMdmkitError,
    errorClass: declarative.DeclarativeError as ErrorClass,
    code: 'INVALID_DECLARATION',
  },
  http: {
    isMdmkitError: http.isMdmkitError,
    errorClass: http.HttpError as ErrorClass,
    code: 'BODY_TOO_LARGE',
  },
  plist: {
    isMdmkitError: plist.isMdmkitError,
    errorClass: plist.PlistError as ErrorClass,
    code: 'INVALID_XML',
  },
  profiles: {
    isMdmkitError: profiles.isMdmkitError,
    errorClass: profiles.ProfileError as ErrorClass,
    code: 'INVALID_PAYLOAD',
  },
  protocol: {
    isMdmkitError: protocol.isMdmkitError,
    errorClass: protocol.ProtocolError as ErrorClass,
    code: 'INVALID_PLIST',
  },
  scep: { isMdmkitError: scep.isMdmkitError, errorClass: scep.ScepError as ErrorClass, code: 'BAD_REQUEST' },
  server: {
    isMdmkitError: server.isMdmkitError,
    errorClass: server.ServerError as ErrorClass,
    code: 'NOT_ASSOCIATED',
  },
  storage: {
    isMdmkitError: storage.isMdmkitError,
    errorClass: storage.StorageError as ErrorClass,
    code: 'CONFLICT',
  },
  testkit: {
    isMdmkitError: testkit.isMdmkitError,
    errorClass: testkit.TestkitError as ErrorClass,
    code: 'CLOSED',
  },
};

const packagesDir = resolve(import.meta.dirname, '../../../packages');

describe('isMdmkitError: one verdict across every package', () => {
  it('covers every package that exports isMdmkitError', () => {
    const withErrors = readdirSync(packagesDir)
      .filter((name) => {
        const f = join(packagesDir, name, 'src', 'index.ts');
        return existsSync(f) && readFileSync(f, 'utf8').includes('isMdmkitError');
      })
      .sort();
    // commands has its own CommandError and re-exports protocol's check (layer 2 may import layer 1).
    expect(withErrors).toEqual(Object.keys(packages).sort());
  });

  const errors = Object.entries(packages).map(
    ([name, p]) => [name, new p.errorClass(p.code as never, 'x')] as const,
  );
  for (const [checker, { isMdmkitError }] of Object.entries(packages)) {
    it(`${checker}'s isMdmkitError accepts every package's error and nothing else`, () => {
      for (const [name, e] of errors) expect(isMdmkitError(e), `${name} error`).toBe(true);
      // A copy from a duplicate install carries the same global brand.
      expect(isMdmkitError({ [Symbol.for('mdmkit.error')]: true, code: 'X' })).toBe(true);
      const lookalikes = [
        Object.assign(new Error('x'), { code: 'INVALID_XML' }),
        { [Symbol('mdmkit.error')]: true, code: 'X' },
        { [Symbol.for('mdmkit.error')]: 'true' },
        null,
        undefined,
        'mdmkit.error',
        42,
      ];
      for (const v of lookalikes) expect(isMdmkitError(v)).toBe(false);
    });
  }
});
