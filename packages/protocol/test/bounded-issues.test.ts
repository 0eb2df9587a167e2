import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildBinary, type PlistDict, type PlistValue, parse } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import { decodeCheckin, decodeReport, decodeReportDict, ProtocolError } from '../src/index';

const ONE_MILLION = 1_000_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Runs `f` and reports its wall time and how much the heap still holds afterwards while its
 * result is alive.
 */
function measure<T>(f: () => T): { result: T; ms: number; retainedMiB: number } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const start = performance.now();
  const result = f();
  const ms = performance.now() - start;
  gc();
  const retainedMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  return { result, ms, retainedMiB };
}

/**
 * Validation time is compared with the time to parse the same body, measured in the same run, so
 * that a busy machine slows both alike: before issues were capped, validating such a body took
 * about a hundred times as long as parsing it.
 */
function decodeMeasured(body: Uint8Array) {
  const parsed = measure(() => parse(body, { reals: 'number' }) as PlistDict);
  const decoded = measure(() => decodeReportDict(parsed.result));
  return { report: decoded.result, ms: decoded.ms, parseMs: parsed.ms, retainedMiB: decoded.retainedMiB };
}

describe('a body within the plist limits cannot make validation unbounded', () => {
  it('an ErrorChain of a million references to one short string', () => {
    // One shared string: buildBinary stores it once, so every element costs a one-byte reference.
    const chain = new Array<PlistValue>(ONE_MILLION).fill('x');
    const body = buildBinary({ UDID: 'D', Status: 'Error', CommandUUID: 'C', ErrorChain: chain });
    expect(body.length).toBeLessThan(1.1 * 2 ** 20);
    const { report: r, ms, parseMs, retainedMiB } = decodeMeasured(body);
    expect(r.envelope.CommandUUID).toBe('C');
    expect(r.envelope.ErrorChain).toHaveLength(ONE_MILLION);
    expect(r.issues).toHaveLength(100);
    expect(r.issues[0]).toMatchObject({ path: ['ErrorChain', 0], expected: 'dictionary', got: 'string' });
    expect(r.issues[99]).toMatchObject({ path: ['ErrorChain', 99] });
    expect(r.omittedIssues).toBe(ONE_MILLION - 100);
    expect(ms).toBeLessThan(parseMs + 100);
    expect(retainedMiB).toBeLessThan(16);
  });

  it('an ErrorChain of dictionaries each missing ErrorDomain, as many as the plist budget lets through', () => {
    // Each reference to the shared dictionary becomes a dictionary of its own, which the plist byte
    // budget charges for: a million of them is refused before validation, so the worst that reaches
    // validation is what fits the budget's 4 MiB floor.
    const million = buildBinary({
      UDID: 'D',
      Status: 'Error',
      CommandUUID: 'C',
      ErrorChain: new Array<PlistValue>(ONE_MILLION).fill({ ErrorCode: 1 }),
    });
    expect(() => decodeReport(million)).toThrowError(expect.objectContaining({ code: 'INVALID_PLIST' }));
    const count = 25_000;
    const chain = new Array<PlistValue>(count).fill({ ErrorCode: 1 });
    const body = buildBinary({ UDID: 'D', Status: 'Error', CommandUUID: 'C', ErrorChain: chain });
    const { report: r, ms, parseMs, retainedMiB } = decodeMeasured(body);
    expect(r.issues).toHaveLength(100);
    expect(r.issues[0]).toMatchObject({ path: ['ErrorChain', 0, 'ErrorDomain'], got: 'nothing' });
    expect(r.omittedIssues).toBe(count - 100);
    expect(ms).toBeLessThan(parseMs + 100);
    expect(retainedMiB).toBeLessThan(16);
  });

  it('decodeReport lists the first issues and counts the rest', () => {
    const chain = new Array<PlistValue>(1000).fill(7);
    const r = decodeReport(buildBinary({ UDID: 'D', Status: 'Error', CommandUUID: 'C', ErrorChain: chain }));
    expect(r.issues).toHaveLength(100);
    expect(r.omittedIssues).toBe(900);
  });

  it('a well-formed report lists no omitted issues', () => {
    const r = decodeReport(buildBinary({ UDID: 'D', Status: 'Idle' }));
    expect(r.issues).toEqual([]);
    expect(r.omittedIssues).toBe(0);
  });

  it('a check-in with a hundred thousand unknown keys and one wrong type is refused', () => {
    const dict: Record<string, PlistValue> = { MessageType: 'Authenticate', UDID: 'D', Topic: 7 };
    for (let i = 0; i < 100_000; i++) dict[`k${i}`] = 'x';
    const body = buildBinary(dict);
    const parseMs = measure(() => parse(body, { reals: 'number' })).ms;
    const { result: e, ms } = measure(() => {
      try {
        decodeCheckin(body);
      } catch (e) {
        return e;
      }
    });
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).keyPath).toEqual(['Topic']);
    expect(ms).toBeLessThan(2 * parseMs + 100);
  });
});
