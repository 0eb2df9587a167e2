import { describe, expect, it } from 'vitest';
import { freshDirs, runToExit, startServer } from './helpers';

describe('a key-encryption key that does not open the data directory', () => {
  it('stops start-up with one message naming kek-file, not a bare crypto error', async () => {
    const { dataDir, kekFile } = freshDirs();
    const first = await startServer(['--data-dir', dataDir, '--kek-file', kekFile]);
    expect(await first.stop()).toBe(0);
    const other = `${kekFile}.other`;
    const r = await runToExit(['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--kek-file', other]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^mdmkit-server: .*kek-file/);
    expect(r.stderr).toContain(other);
    expect(r.stderr).toContain(dataDir.replace(/\/data$/, ''));
  }, 120_000);
});
