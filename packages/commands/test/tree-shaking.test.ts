import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// esbuild comes with tsx (a dev tool of the repository); tsup builds the package with it, and it
// stands in for a user's bundler.
/** The part of esbuild's API used here (esbuild is not a dependency of this package). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] }>;
}
const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))(
  'esbuild',
) as Esbuild;

const root = fileURLToPath(new URL('..', import.meta.url));
const external = ['@mdmkit/*', 'zod'];
let dist: string;

// The package is built as tsup builds it (every entry point, shared chunks, package.json with
// `sideEffects: false`): commands that share a chunk can only be dropped one by one if nothing at
// the top level of the chunk has to be kept.
beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'mdmkit-commands-'));
  const domains = readdirSync(join(root, 'src/generated/domains')).map((f) => f.replace(/\.ts$/, ''));
  await esbuild.build({
    entryPoints: {
      index: join(root, 'src/index.ts'),
      ...Object.fromEntries(
        domains.map((d) => [`domains/${d}`, join(root, `src/generated/domains/${d}.ts`)]),
      ),
    },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    logLevel: 'silent',
  });
  writeFileSync(join(dist, 'package.json'), JSON.stringify({ type: 'module', sideEffects: false }));
});

afterAll(() => rmSync(dist, { recursive: true, force: true }));

async function bundle(source: string): Promise<string> {
  const out = await esbuild.build({
    stdin: { contents: source, resolveDir: dist, loader: 'js' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'node',
    external,
    logLevel: 'silent',
  });
  return out.outputFiles![0]!.text;
}

const requestTypes = (code: string) => [...code.matchAll(/requestType:"(\w+)"/g)].map((m) => m[1]);

describe('a program that imports one builder bundles one command', () => {
  it.each([
    ['a domain entry point', "import { deviceLockCommand } from './domains/device.js';"],
    ['the main entry point', "import { deviceLockCommand } from './index.js';"],
  ])('%s', async (_, line) => {
    const code = await bundle(`${line}\nconsole.log(deviceLockCommand({}));`);
    expect(requestTypes(code)).toEqual(['DeviceLock']);
    expect(code).not.toContain('RebuildKernelCache'); // a RestartDevice key
  });
});
