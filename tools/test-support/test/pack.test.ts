import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// What a user outside this workspace gets: tarballs packed as they would be published, installed with
// plain npm into a project in the temp folder, and a first program that uses them. Runs once, on the
// default Node (the extra Node runs of CI set MDMKIT_NODE_MATRIX), since it compiles better-sqlite3.
const repo = resolve(import.meta.dirname, '../../..');
const skip = Boolean(process.env.MDMKIT_NODE_MATRIX);
const work = mkdtempSync(join(tmpdir(), 'mdmkit-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 900_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function manifestOf(tarball: string): Record<string, unknown> {
  const r = run('tar', ['-xzOf', tarball, 'package/package.json'], work);
  expect(r.status, r.out).toBe(0);
  return JSON.parse(r.out);
}

describe.skipIf(skip)('packages installed from tarballs outside the monorepo', () => {
  const packs = join(work, 'packs');
  let tarballs: string[] = [];

  it('packs every publishable package with real version ranges', () => {
    const r = run(process.execPath, [join(repo, 'tools/pack.mjs'), packs], repo);
    expect(r.status, r.out).toBe(0);
    tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toEqual(expect.arrayContaining(['mdmkit-plist-0.1.0.tgz', 'mdmkit-scep-0.1.0.tgz']));
    for (const file of tarballs) {
      const manifest = manifestOf(join(packs, file));
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const [name, range] of Object.entries((manifest[field] ?? {}) as Record<string, string>)) {
          expect(range, `${file} ${field}.${name}`).not.toMatch(/^workspace:/);
        }
      }
      const listing = run('tar', ['-tzf', join(packs, file)], work).out;
      for (const bin of Object.values((manifest.bin ?? {}) as Record<string, string>)) {
        expect(listing, `${file} bin ${bin}`).toContain(`package/${bin.replace(/^\.\//, '')}`);
      }
    }
  });

  it('installs with plain npm and runs a first program', () => {
    const app = join(work, 'app');
    run('mkdir', ['-p', app], work);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // The program's own imports, plus every @mdmkit package those depend on, read from the tarballs.
    const names = new Set(['plist', 'crypto', 'scep', 'storage-sqlite']);
    for (const name of names) {
      const deps = (manifestOf(join(packs, `mdmkit-${name}-0.1.0.tgz`)).dependencies ?? {}) as Record<
        string,
        string
      >;
      for (const dep of Object.keys(deps))
        if (dep.startsWith('@mdmkit/')) names.add(dep.slice('@mdmkit/'.length));
    }
    const wanted = [...names].map((n) => join(packs, `mdmkit-${n}-0.1.0.tgz`));
    const install = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...wanted], app);
    expect(install.status, install.out).toBe(0);
    copyFileSync(join(import.meta.dirname, 'fixtures/outside/main.mjs'), join(app, 'main.mjs'));
    const program = run(process.execPath, ['main.mjs'], app);
    expect(program.status, program.out).toBe(0);
    const printed = JSON.parse(program.out.trim().split('\n')[0]!);
    expect(printed.subject).toBe('CN=device-1');
    expect(printed.serial).toMatch(/^[0-9a-f]{32}$/);
    const bin = run(join(app, 'node_modules/.bin/mdmkit-plist'), ['--help'], app);
    expect(bin.status, bin.out).toBe(0);
    expect(bin.out).toContain('usage: mdmkit-plist');
  }, 900_000);
});
