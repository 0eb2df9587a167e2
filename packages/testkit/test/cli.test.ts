import { describe, expect, it } from 'vitest';
import { runTestkitCli } from '../src/cli';

function io(stopAfter?: (out: string) => boolean) {
  const out: string[] = [];
  const err: string[] = [];
  let stop!: () => void;
  const stopped = new Promise<void>((r) => {
    stop = r;
  });
  return {
    out,
    err,
    io: {
      out: (s: string) => {
        out.push(s);
        if (stopAfter?.(s)) stop();
      },
      err: (s: string) => err.push(s),
      untilStopped: () => stopped,
    },
  };
}

describe('mdmkit-testkit', () => {
  it('prints help at every level and the version, exit 0', async () => {
    for (const args of [
      ['--help'],
      ['help'],
      ['help', 'mock-dep'],
      ['mock-dep', '--help'],
      ['mock-apns', '-h'],
    ]) {
      const t = io();
      expect(await runTestkitCli(args, t.io)).toBe(0);
      expect(t.out.join('')).toMatch(/^usage: mdmkit-testkit/);
    }
    const v = io();
    expect(await runTestkitCli(['--version'], v.io)).toBe(0);
    expect(v.out.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('reports usage errors on stderr with exit 2', async () => {
    for (const args of [
      [],
      ['nope'],
      ['mock-dep', '--bogus'],
      ['mock-dep', '--devices', 'many'],
      ['mock-dep', 'extra'],
    ]) {
      const t = io();
      expect(await runTestkitCli(args, t.io)).toBe(2);
      expect(t.err.join('')).toMatch(/^mdmkit-testkit: .+\nusage:/);
      expect(t.out).toEqual([]);
    }
  });

  it('runs mock-dep, printing its URL and credentials, until stopped', async () => {
    let info: { url: string; credentials: { consumerKey: string } } | undefined;
    const t = io((s) => {
      info = JSON.parse(s);
      return true;
    });
    const code = runTestkitCli(['mock-dep', '--devices', '5'], t.io);
    expect(await code).toBe(0);
    expect(info?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info?.credentials.consumerKey).toMatch(/^CK_/);
  });
});
