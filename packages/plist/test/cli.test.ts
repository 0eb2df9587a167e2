import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBinary, buildXml, convert, detectFormat, parse, PlistParseError, real } from '@mdmkit/plist';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mdmkit-plist-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], input?: Uint8Array | string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=mdmkit-source', bin, ...args], {
    input,
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

const value = {
  Name: 'Ünïcode',
  Version: 1,
  Scale: real(2),
  When: new Date('2024-01-02T03:04:05Z'),
  Blob: new Uint8Array([1, 2]),
};

describe('convert()', () => {
  it('converts between all formats and detects the input format', () => {
    const bin = convert(new TextEncoder().encode(buildXml(value)), { to: 'binary' });
    expect(detectFormat(bin)).toBe('binary');
    expect(parse(bin)).toEqual(value);
    const xml = convert(bin, { to: 'xml' });
    expect(detectFormat(xml)).toBe('xml');
    expect(parse(xml)).toEqual(value);
    const json = JSON.parse(new TextDecoder().decode(convert(xml, { to: 'json' })));
    expect(json).toEqual({
      Name: 'Ünïcode',
      Version: 1,
      Scale: 2,
      When: '2024-01-02T03:04:05.000Z',
      Blob: 'AQI=',
    });
    expect(new TextDecoder().decode(convert(xml, { to: 'json' }))).toContain('"Scale": 2.0');
    expect(parse(convert(new TextEncoder().encode('{"a":[1,2.5,"x",true]}'), { to: 'xml' }))).toEqual({
      a: [1, 2.5, 'x', true],
    });
  });

  it('rejects what the target cannot hold and malformed input, with PlistParseError', () => {
    expect(() => convert(buildBinary([NaN]), { to: 'json' })).toThrowError(PlistParseError);
    expect(() => convert(new TextEncoder().encode('{"a":null}'), { to: 'xml' })).toThrowError(
      PlistParseError,
    );
    const deep = new TextEncoder().encode(`${'['.repeat(5000)}${']'.repeat(5000)}`);
    expect(() => convert(deep, { to: 'xml' })).toThrowError(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED' }),
    );
    expect(() => convert(new TextEncoder().encode('{oops'), { to: 'xml' })).toThrowError(
      expect.objectContaining({ code: 'INVALID_JSON' }),
    );
  });
});

describe('mdmkit-plist convert', () => {
  it('converts stdin to stdout', () => {
    const r = run(['convert', '--to', 'binary', '-'], buildXml(value));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Buffer.from(r.stdout.subarray(0, 8)).toString()).toBe('bplist00');
    expect(parse(new Uint8Array(r.stdout))).toEqual(value);
  });

  it('converts a file to -o OUT and in place', () => {
    const input = join(dir, 'in.plist');
    const out = join(dir, 'out.json');
    writeFileSync(input, buildBinary(value));
    const r = run(['convert', '--to=json', input, '-o', out]);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).Name).toBe('Ünïcode');
    expect(run(['convert', '--to', 'xml', input]).status).toBe(0);
    expect(readFileSync(input, 'utf8')).toContain('<string>Ünïcode</string>');
    expect(parse(readFileSync(input))).toEqual(value);
  });

  it('reports malformed input with its code and exits 1', () => {
    const r = run(['convert', '--to', 'json', '-'], '<plist><dict><key>A</key></dict></plist>');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/<stdin>: no value after <key> \(line 1, column \d+, at A\) \[MISSING_VALUE\]/);
    expect(r.stdout.length).toBe(0);
  });

  it('reports usage errors with exit 2 and prints help', () => {
    expect(run(['convert', '--to', 'yaml', '-']).status).toBe(2);
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout.toString()).toContain('usage: mdmkit-plist convert');
    const missing = run(['convert', '--to', 'xml', join(dir, 'nope.plist')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('ENOENT');
  });
});
