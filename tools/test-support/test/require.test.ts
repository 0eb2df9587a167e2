import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Packages are ESM-only; Node >= 20.19 must still be able to require() each built package.
// The check runs in a plain child Node process so that no test-runner loader or source condition
// takes part: it sees exactly what a user's CommonJS code would see.
const packagesDir = resolve(import.meta.dirname, '../../../packages');
const packages = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private);

function requireInChild(dir: string, specifier: string): { count: number; stderr: string } {
  const script = `const m = require(${JSON.stringify(specifier)}); process.stdout.write(String(Object.keys(m).length));`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['--no-warnings', '-e', script], { cwd: dir, env, encoding: 'utf8' });
  return { count: r.status === 0 ? Number(r.stdout) : -1, stderr: r.stderr };
}

describe('require() of every built package', () => {
  it('finds packages', () => {
    expect(packages.length).toBeGreaterThan(0);
  });
  for (const { dir, manifest } of packages) {
    it(`${manifest.name}`, () => {
      const dist = join(dir, 'dist', 'index.js');
      expect(existsSync(dist), `${dist} missing: run pnpm build first`).toBe(true);
      for (const key of Object.keys(manifest.exports ?? {})) {
        if (key === './package.json') continue;
        const specifier = key === '.' ? manifest.name : `${manifest.name}${key.slice(1)}`;
        const { count, stderr } = requireInChild(dir, specifier);
        expect(count, `require(${specifier}) failed: ${stderr}`).toBeGreaterThan(0);
      }
    });
  }
});
