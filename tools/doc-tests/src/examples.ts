import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One fenced TypeScript block of a README. */
export interface ReadmeExample {
  /** README path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** `vitest` when the block is a test file (marked `<!-- doc-test: vitest -->` on the line before). */
  runner: 'tsx' | 'vitest';
}

const FENCE = /^```(ts|typescript)\s*$/;

/**
 * The fenced `ts`/`typescript` blocks of one Markdown text, in order. A block is a program run with tsx,
 * or a test file run with vitest when the line before its fence is `<!-- doc-test: vitest -->`.
 */
export function extractExamples(markdown: string, file: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const out: ReadmeExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!.trim())) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: unclosed code fence`);
    const marker = lines[start - 1]?.trim();
    const runner = marker === '<!-- doc-test: vitest -->' ? 'vitest' : 'tsx';
    out.push({ file, line: start + 1, code: body.join('\n'), runner });
  }
  return out;
}

/** The root README and every package's README. */
export function readmeFiles(repo: string): string[] {
  const packages = join(repo, 'packages');
  const files = [join(repo, 'README.md')];
  for (const entry of readdirSync(packages, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const readme = join(packages, entry.name, 'README.md');
    try {
      readFileSync(readme);
      files.push(readme);
    } catch {
      // a package without a README has no examples to run
    }
  }
  return files.map((f) => relative(repo, f));
}
