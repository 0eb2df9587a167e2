// `pnpm --filter @mdmkit/crypto run bench`: the two hot paths of this package against the bare
// node:crypto operations they contain; rewrites the crypto section of docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runVerifyBench, VERIFY_BENCH_HEADER } from './verify';

const here = dirname(fileURLToPath(import.meta.url));
const docs = join(here, '..', '..', '..', 'docs', 'benchmarks.md');

interface DecryptBench {
  runDecryptBench(): Promise<string>;
  DECRYPT_BENCH_HEADER: string;
}

async function main(): Promise<void> {
  const parts: string[] = [];
  console.log('Mdm-Signature verify…');
  const verifyRows = await runVerifyBench();
  console.log(`${VERIFY_BENCH_HEADER}\n${verifyRows}\n`);
  parts.push(
    '#### Mdm-Signature verification (detached CMS SignedData)',
    '',
    VERIFY_BENCH_HEADER,
    verifyRows,
    '',
  );

  if (existsSync(join(here, 'decrypt.ts'))) {
    console.log('EnvelopedData decrypt…');
    const d = (await import('./decrypt')) as DecryptBench;
    const rows = await d.runDecryptBench();
    console.log(`${d.DECRYPT_BENCH_HEADER}\n${rows}\n`);
    parts.push('#### EnvelopedData decryption (SCEP)', '', d.DECRYPT_BENCH_HEADER, rows, '');
  }

  const cpu = cpus();
  const section = [
    '### @mdmkit/crypto',
    '',
    'Reproduce: `npx -y pnpm@10.34.8 --filter @mdmkit/crypto run bench`',
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpu[0]?.model.trim() ?? 'unknown CPU'} (${cpu.length} cores). Figures are CPU time per operation (medians of several rounds; ratios are medians of paired rounds), so load from other processes on the machine inflates them less than wall time would.`,
    '',
    ...parts,
  ].join('\n');
  writeSection(section.trimEnd());
  console.log(`updated ${docs}`);
}

/**
 * Replaces the text between this package's markers under an exclusive flock on the lock file every
 * package's bench uses, so concurrent section rewrites never interleave.
 */
function writeSection(section: string): void {
  const script = `
    const fs = require('node:fs');
    const [file, body] = [process.argv[1], process.env.MDMKIT_BENCH_SECTION];
    const start = '<!-- bench:crypto -->', end = '<!-- /bench:crypto -->';
    let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\\n';
    const block = start + '\\n' + body + '\\n' + end;
    const i = text.indexOf(start), j = text.indexOf(end);
    text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : text.replace(/\\n*$/, '\\n\\n') + block + '\\n';
    fs.writeFileSync(file, text);
  `;
  const env = { ...process.env, MDMKIT_BENCH_SECTION: section };
  let r = spawnSync('flock', ['-x', '/tmp/mdmkit-bench.lock', process.execPath, '-e', script, docs], {
    env,
    stdio: 'inherit',
  });
  if (r.error) {
    // No flock binary: write without the lock.
    r = spawnSync(process.execPath, ['-e', script, docs], { env, stdio: 'inherit' });
  }
  if (r.status !== 0) throw new Error('could not update docs/benchmarks.md');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
