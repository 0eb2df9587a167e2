import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildBinary, type PlistDict, type PlistValue, parse } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import {
  CommandError,
  decodeReportDictFor,
  decodeReportFor,
  scheduleOSUpdateCommand,
  unchecked,
} from '../src/index';

const ONE_MILLION = 1_000_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function measure<T>(f: () => T): { result: T; ms: number; retainedMiB: number } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  const result = f();
  const ms = performance.now() - start;
  gc();
  return { result, ms, retainedMiB: (process.memoryUsage().heapUsed - before) / 2 ** 20 };
}

const envelope = { UDID: 'D', Status: 'Acknowledged', CommandUUID: 'C' };

describe('typed responses of any size are checked in bounded time and memory', () => {
  it('an InstalledApplicationList of a million references to one short string', () => {
    // The string is stored once; every item is a one-byte reference to it.
    const list = new Array<PlistValue>(ONE_MILLION).fill('x');
    const body = buildBinary({ ...envelope, InstalledApplicationList: list });
    expect(body.length).toBeLessThan(1.1 * 2 ** 20);
    // Compared with parsing the same body in the same run, so that a busy machine slows both alike.
    const parsed = measure(() => parse(body, { reals: 'number' }) as PlistDict);
    const {
      result: r,
      ms,
      retainedMiB,
    } = measure(() => decodeReportDictFor('InstalledApplicationList', parsed.result));
    expect(r.envelope.CommandUUID).toBe('C');
    expect(r.response).toBeUndefined();
    expect(r.responseIssues).toHaveLength(100);
    expect(r.responseIssues[0]).toMatchObject({
      path: ['InstalledApplicationList', 0],
      expected: 'object',
      got: 'string',
    });
    expect(r.omittedResponseIssues).toBe(ONE_MILLION - 100);
    expect(r.issues).toHaveLength(100);
    expect(r.omittedIssues).toBe(ONE_MILLION - 100);
    expect(ms).toBeLessThan(parsed.ms + 100);
    expect(retainedMiB).toBeLessThan(16);
  });

  it('the envelope and response issues share the limit and the count', () => {
    const chain = new Array<PlistValue>(60).fill(1);
    const list = new Array<PlistValue>(60).fill(2);
    const r = decodeReportFor(
      'InstalledApplicationList',
      buildBinary({ ...envelope, ErrorChain: chain, InstalledApplicationList: list }),
    );
    expect(r.issues).toHaveLength(100);
    expect(r.issues[0]!.path).toEqual(['ErrorChain', 0]);
    expect(r.issues[99]!.path).toEqual(['InstalledApplicationList', 39]);
    expect(r.omittedIssues).toBe(20);
    expect(r.responseIssues).toHaveLength(60);
    expect(r.omittedResponseIssues).toBe(0);
  });
});

describe('unchecked() never hides an issue of another key', () => {
  it('more than a hundred marked values do not push a wrong type out of sight', () => {
    const updates = Array.from({ length: 150 }, (_, i) => ({
      ProductKey: `k${i}`,
      InstallAction: unchecked('InstallSomeday'),
    }));
    updates.push({ ProductKey: 7 as never, InstallAction: 'Default' as never });
    try {
      scheduleOSUpdateCommand({ Updates: updates });
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(CommandError);
      expect((e as CommandError).keyPath).toEqual(['Command', 'Updates', 150, 'ProductKey']);
    }
  });
});
