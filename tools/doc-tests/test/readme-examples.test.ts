import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractExamples, readmeFiles } from '../src/examples';

// Every TypeScript block of every README runs as printed, in a child process with tsx, from this
// package (which depends on every published package), so an example that rots fails the build.
const repo = resolve(import.meta.dirname, '../../..');
const scratch = join(import.meta.dirname, '..', '.examples');
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const vitest = join(repo, 'node_modules', '.bin', 'vitest');
// A test-file example runs under a config of its own, with the same source condition as the suite.
writeFileSync(
  join(scratch, 'vitest.config.mjs'),
  `export default { resolve: { conditions: ['mdmkit-source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['mdmkit-source', 'node', 'development|production'] } },
  test: { include: ['*.test.ts'], testTimeout: 60000, hookTimeout: 120000 } };\n`,
);

describe('extractExamples', () => {
  it('finds ts and typescript fences with their line numbers', () => {
    const md = 'a\n```ts\nconst x = 1;\n```\n```sh\nls\n```\n```typescript\nlet y;\n```\n';
    expect(extractExamples(md, 'R.md')).toEqual([
      { file: 'R.md', line: 2, code: 'const x = 1;', runner: 'tsx' },
      { file: 'R.md', line: 8, code: 'let y;', runner: 'tsx' },
    ]);
  });
  it('marks a block as a vitest file by the comment on the line before its fence', () => {
    const md = '<!-- doc-test: vitest -->\n```ts\nit();\n```\n';
    expect(extractExamples(md, 'R.md')).toEqual([{ file: 'R.md', line: 2, code: 'it();', runner: 'vitest' }]);
  });
  it('refuses an unclosed fence', () => {
    expect(() => extractExamples('```ts\nx', 'R.md')).toThrow('R.md:1: unclosed code fence');
  });
});

for (const file of readmeFiles(repo)) {
  const examples = extractExamples(readFileSync(join(repo, file), 'utf8'), file);
  if (examples.length === 0) continue;
  describe(file, () => {
    for (const example of examples) {
      it(`example at line ${example.line} runs`, () => {
        const suffix = example.runner === 'vitest' ? '.test.ts' : '.ts';
        const name = `${file.replace(/[^a-z0-9]+/gi, '_')}_${example.line}${suffix}`;
        const path = join(scratch, name);
        writeFileSync(path, `${example.code}\nexport {};\n`);
        const env = { ...process.env };
        delete env.NODE_OPTIONS;
        const command =
          example.runner === 'vitest'
            ? { cmd: vitest, args: ['run', '--root', scratch, name] }
            : { cmd: tsx, args: ['--conditions=mdmkit-source', path] };
        const r = spawnSync(command.cmd, command.args, {
          cwd: join(import.meta.dirname, '..'),
          encoding: 'utf8',
          env,
          timeout: 300_000,
        });
        expect(r.status, `${file}:${example.line} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
      }, 330_000);
    }
  });
}
