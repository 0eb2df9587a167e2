import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliIo, loadConfig, main } from '../src/index';
import { runToExit } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'mdmkit-server-config-'));
const kek = ['--kek-file', join(dir, 'keys', 'kek.json'), '--data-dir', join(dir, 'data')];

async function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (s) => (out += s),
    err: (s) => (err += s),
    untilStopped: () => new Promise(() => {}),
  };
  const code = await main(args, io, env, dir);
  return { code, out, err };
}

describe('configuration', () => {
  it('has embedded defaults: 127.0.0.1:8443, SQLite in the data directory, self-signed TLS, KEK outside', () => {
    const r = loadConfig([], { HOME: '/home/someone' }, '/srv');
    expect(r.kind).toBe('run');
    if (r.kind !== 'run') return;
    expect(r.config.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(r.config.storage).toEqual({ kind: 'sqlite', path: '/srv/mdmkit-data/mdmkit.db' });
    expect(r.config.tls).toEqual({ kind: 'self-signed' });
    expect(r.config.kekFile).toBe('/home/someone/.config/mdmkit-server/kek.json');
    expect(r.config.apiToken).toBeUndefined();
  });

  it('takes a flag over the environment over the config file', () => {
    const file = join(dir, 'precedence.json');
    writeFileSync(
      file,
      JSON.stringify({ listen: '127.0.0.1:1001', 'log-level': 'warn', storage: 'mysql://u@h/db' }),
    );
    const r = loadConfig(
      ['--config', file, '--listen', '127.0.0.1:1003', ...kek],
      { MDMKIT_LISTEN: '127.0.0.1:1002', MDMKIT_LOG_LEVEL: 'error' },
      dir,
    );
    if (r.kind !== 'run') throw new Error('expected a configuration');
    expect(r.config.listen.port).toBe(1003);
    expect(r.config.logLevel).toBe('error');
    expect(r.config.storage).toEqual({ kind: 'mysql', url: 'mysql://u@h/db' });
  });

  it('reads a PostgreSQL schema from the URL and keeps it out of the connection string', () => {
    const r = loadConfig(['--storage', 'postgres://u:pw@db:5432/mdm?schema=fleet', ...kek], {}, dir);
    if (r.kind !== 'run') throw new Error('expected a configuration');
    expect(r.config.storage).toEqual({
      kind: 'postgres',
      url: 'postgres://u:pw@db:5432/mdm',
      schema: 'fleet',
    });
  });

  const invalid: [string, string[], NodeJS.ProcessEnv, string][] = [
    ['listen', ['--listen', 'everywhere'], {}, 'is not HOST:PORT'],
    ['listen', ['--listen', '127.0.0.1:70000'], {}, 'is not HOST:PORT'],
    ['storage', ['--storage', 'ftp://x/y'], {}, 'unknown scheme'],
    ['storage', ['--storage', 'postgres://h/db?schema=a;drop'], {}, 'not a plain identifier'],
    ['tls-key', ['--tls-cert', '/etc/hostname'], {}, '--tls-cert needs --tls-key'],
    ['tls-cert', ['--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent.key'], {}, 'cannot read'],
    ['no-tls', ['--no-tls', '--tls-cert', 'a', '--tls-key', 'b'], {}, 'cannot be combined'],
    ['trusted-proxy', ['--trusted-proxy', 'proxy.local'], {}, 'not an IP address or CIDR'],
    ['trusted-proxy', [], { MDMKIT_TRUSTED_PROXY: '10.0.0.0/33' }, 'not an IP address or CIDR'],
    ['api-token', ['--api-token', 'short'], {}, '24 to 512 characters'],
    ['public-url', ['--public-url', 'ftp://mdm.example.com'], {}, 'must be https://'],
    ['public-url', ['--public-url', 'https://mdm.example.com/mdm'], {}, 'origin only'],
    ['log-level', [], { MDMKIT_LOG_LEVEL: 'loud' }, 'must be debug, info, warn or error'],
    ['no-tls', [], { MDMKIT_NO_TLS: 'maybe' }, 'is not true or false'],
    ['shutdown-timeout', ['--shutdown-timeout=-1'], {}, 'is not a number of seconds'],
    ['shutdown-timeout', ['--shutdown-timeout', '0'], {}, 'is not a number of seconds'],
    ['enroll-token', ['--enroll-token', 'abc'], {}, 'at least 16 characters'],
    ['apns-ca', ['--apns-ca', '/etc/hostname'], {}, 'needs --apns-origin'],
    ['bogus', ['--bogus', 'x'], {}, 'Unknown option'],
    ['webhook-url', ['--webhook-url', 'mailto:ops@example.com'], {}, 'must be an http or https URL'],
    [
      'webhook-secret',
      ['--webhook-url', 'https://hooks.example.com/mdm', '--webhook-secret', 'short'],
      {},
      'at least 16 characters',
    ],
    ['webhook-secret', [], { MDMKIT_WEBHOOK_SECRET: 'a-long-enough-secret-value' }, 'needs --webhook-url'],
  ];
  for (const [setting, args, env, why] of invalid) {
    it(`refuses ${setting} ${JSON.stringify(args.length ? args : env)} with one line naming it, exit 2`, async () => {
      const r = await run([...kek, ...args], env);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(`invalid setting ${setting} `);
      expect(r.err).toContain(why);
      expect(r.out).toBe('');
    });
  }

  it('refuses a key-encryption key inside the data directory', async () => {
    const r = await run(['--data-dir', join(dir, 'd'), '--kek-file', join(dir, 'd', 'kek.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('invalid setting kek-file');
    expect(r.err).toContain('outside --data-dir');
  });

  it('refuses an unknown config-file key and a config file that is not JSON', async () => {
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ lisen: '127.0.0.1:1' }));
    const a = await run([...kek, '--config', unknown]);
    expect(a.code).toBe(2);
    expect(a.err).toContain('invalid setting lisen (from config file');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ listen: ');
    const b = await run([...kek], { MDMKIT_CONFIG: broken });
    expect(b.code).toBe(2);
    expect(b.err).toContain('invalid setting config');
  });

  it('prints usage with every setting and its environment variable', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const name of [
      '--listen',
      '--data-dir',
      '--public-url',
      '--storage',
      '--tls-cert',
      '--tls-key',
      '--no-tls',
      '--trusted-proxy',
      '--api-token',
      'MDMKIT_STORAGE',
    ]) {
      expect(r.out).toContain(name);
    }
  });

  it('as a process: one clear line naming the setting and a non-zero exit', async () => {
    const r = await runToExit([...kek, '--storage', 'oracle://db/x']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^mdmkit-server: invalid setting storage \(from --storage\): unknown scheme oracle:/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('as a process: storage that cannot be reached stops start-up with its URL, never its password', async () => {
    const r = await runToExit([...kek, '--storage', 'postgres://mdm:hunter2secret@127.0.0.1:1/mdm'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot open storage postgres://mdm:');
    expect(r.stderr).not.toContain('hunter2secret');
  });
});
