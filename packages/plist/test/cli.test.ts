import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

  it('converts in place keeping the file mode, and never writes through a file at the temporary name', () => {
    const input = join(dir, 'secret.plist');
    writeFileSync(input, buildBinary(value), { mode: 0o600 });
    chmodSync(input, 0o600);
    expect(run(['convert', '--to', 'xml', input]).status).toBe(0);
    expect(statSync(input).mode & 0o777).toBe(0o600);
    expect(parse(readFileSync(input))).toEqual(value);
    // Whatever already sits at a name the temporary file could take is left alone.
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    const names = readdirSync(dir);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=mdmkit-source',
        '-e',
        `const fs = require('node:fs');
         const real = fs.openSync;
         fs.openSync = (p, ...rest) => {
           if (String(p).startsWith(${JSON.stringify(input)} + '.')) fs.symlinkSync(${JSON.stringify(victim)}, p);
           return real(p, ...rest);
         };
         process.argv.splice(1, 0, ${JSON.stringify(bin)});
         import(${JSON.stringify(bin)});`,
        '--',
        'convert',
        '--to',
        'binary',
        input,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000 },
    );
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(r.status).toBe(1);
    expect(parse(readFileSync(input))).toEqual(value);
    for (const name of readdirSync(dir)) if (!names.includes(name)) rmSync(join(dir, name));
  });

  it('reports malformed input with its code and exits 1', () => {
    const r = run(['convert', '--to', 'json', '-'], '<plist><dict><key>A</key></dict></plist>');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/<stdin>: no value after <key> \(line 1, column \d+, at A\) \[MISSING_VALUE\]/);
    expect(r.stdout.length).toBe(0);
  });

  it('follows the command-line convention: help at every level, --version, usage errors exit 2', () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['help'],
      ['help', 'convert'],
      ['convert', '--help'],
      ['convert', '-h'],
    ]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout.toString(), args.join(' ')).toContain('usage: mdmkit-plist');
      expect(r.stderr).toBe('');
    }
    const version = run(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const args of [
      [],
      ['bogus'],
      ['help', 'bogus'],
      ['convert', '--to', 'yaml', '-'],
      ['convert', '--to', 'xml'],
      ['convert', '--to', 'xml', '-o'],
      ['convert', '--to', 'xml', '--nope', '-'],
    ]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^mdmkit-plist: /);
      expect(r.stdout.length, args.join(' ')).toBe(0);
    }
    expect(run(['convert', '--to', 'xml', '-o']).stderr).toContain('argument missing');
  });

  it('names the path in runtime errors and never repeats an error code', () => {
    const missingPath = join(dir, 'nope.plist');
    const missing = run(['convert', '--to', 'xml', missingPath]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`mdmkit-plist: ${missingPath}: no such file or directory\n`);
    const directory = run(['convert', '--to', 'xml', dir]);
    expect(directory.status).toBe(1);
    expect(directory.stderr).toBe(`mdmkit-plist: ${dir}: is a directory\n`);
    const random = join(dir, 'random.bin');
    writeFileSync(random, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe, 0x00]));
    const notPlist = run(['convert', '--to', 'json', random]);
    expect(notPlist.status).toBe(1);
    expect(notPlist.stderr).toContain(`${random}: not a property list`);
    expect(notPlist.stderr).toContain('[UNKNOWN_FORMAT]');
  });
});
