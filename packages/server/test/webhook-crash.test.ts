import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqliteStorage } from '@mdmkit/storage-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookWorker, outboxEntry } from '../src/index';
import { TestReceiver } from './receiver';
import { waitFor } from './wait';

const LEASE_MS = 1500;

describe('a webhook worker killed mid-delivery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-webhook-crash-'));
  const receiver = new TestReceiver();
  afterAll(async () => {
    await receiver.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the unconfirmed event to be redelivered, and only that one', async () => {
    const path = join(dir, 'mdm.db');
    const storage = await createSqliteStorage({ path });
    const ids = Array.from({ length: 5 }, (_, i) => `crash-event-${i}`);
    const created = new Date(Date.now() - 1000);
    await storage.enqueueOutbox(
      ids.map((id, i) =>
        outboxEntry(id, created, {
          kind: 'report',
          status: 'Idle',
          sender: { udid: `UDID-${i}` },
          raw: new TextEncoder().encode(`<plist><dict><key>Status</key><string>Idle</string></dict></plist>`),
        }),
      ),
    );
    await receiver.up();
    receiver.hangAfter = 2; // the third delivery never gets an answer

    const child = spawn(
      process.execPath,
      [
        '--conditions=mdmkit-source',
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/webhook-worker-child.ts', import.meta.url)),
      ],
      {
        env: {
          ...process.env,
          MDMKIT_DB: path,
          MDMKIT_WEBHOOK_URL: receiver.url,
          MDMKIT_LEASE_MS: String(LEASE_MS),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ? -1 : code)),
    );
    try {
      await waitFor(() => receiver.seen.length === 3, 30_000);
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`child did not deliver: ${stderr}`, { cause: e });
    }
    // Mid-delivery: the third POST is open at the receiver, unconfirmed in the outbox.
    child.kill('SIGKILL');
    expect(await exited).toBe(-1);
    expect(receiver.accepted.map((r) => r.json.event_id)).toEqual(ids.slice(0, 2));

    receiver.mode = 'ok';
    receiver.hangAfter = undefined;
    const worker = createWebhookWorker({ store: storage, url: receiver.url, secret: 'crash test secret' });
    // Within the dead worker's lease, nothing is handed out again.
    expect(await worker.runOnce()).toEqual({ delivered: 0, failed: 0 });
    await new Promise((r) => setTimeout(r, LEASE_MS + 100));
    while ((await worker.runOnce()).delivered > 0) {}
    const accepted = receiver.accepted.map((r) => r.json.event_id);
    expect(accepted).toEqual(ids);
    // The interrupted one reached the receiver twice (at least once), the confirmed ones once.
    const seen = receiver.seen.map((r) => r.json.event_id);
    expect(seen.filter((id) => id === ids[2])).toHaveLength(2);
    expect(seen.filter((id) => id === ids[0])).toHaveLength(1);
    await storage.close();
  });
});
