// One full initial sync in a fresh process: `ours` (DepSyncer into MemoryDepStore, the whole path:
// session, typed pages, fenced page writes, events) or `baseline` (undici fetch + JSON.parse into a
// Map, no validation and no storage semantics: the floor any client pays for the same pages).
import { randomBytes } from 'node:crypto';
import { createStaticKeyProvider, oauth1Header } from '@mdmkit/crypto';
import { connectDepToken, DepSyncer } from '../src/index';
import { MemoryDepStore, MemoryStorage } from '@mdmkit/storage';
import { request } from 'undici';

interface Start {
  which: 'ours' | 'baseline';
  url: string;
  credentials: { consumerKey: string; consumerSecret: string; accessToken: string; accessSecret: string };
  expected: number;
}

process.once('message', async (msg: Start) => {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  let stored = 0;
  if (msg.which === 'ours') {
    const store = new MemoryDepStore();
    const leases = new MemoryStorage();
    await leases.migrate();
    const keyProvider = createStaticKeyProvider(randomBytes(32));
    await connectDepToken(store, keyProvider, {
      name: 'bench',
      token: { ...msg.credentials, accessTokenExpiry: new Date(Date.now() + 86_400_000) },
      baseUrl: msg.url,
    });
    const syncer = new DepSyncer({ store, leases, keyProvider, pageLimit: 1000 });
    const report = await syncer.syncToken('bench');
    stored = report.added;
  } else {
    const session = await sessionOf(msg);
    const devices = new Map<string, unknown>();
    let cursor: string | undefined;
    for (;;) {
      const res = await request(`${msg.url}/server/devices`, {
        method: 'POST',
        headers: {
          'x-adm-auth-session': session,
          'x-server-protocol-version': '3',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ limit: 1000, ...(cursor && { cursor }) }),
      });
      const page = (await res.body.json()) as {
        cursor: string;
        more_to_follow: boolean;
        devices: { serial_number: string }[];
      };
      for (const d of page.devices) devices.set(d.serial_number, d);
      cursor = page.cursor;
      if (!page.more_to_follow) break;
    }
    stored = devices.size;
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const m = process.memoryUsage();
  process.send?.({
    seconds,
    peakRssMb: peak / 1024 / 1024,
    stored,
    heapUsedMb: m.heapUsed / 1048576,
    rssEndMb: m.rss / 1048576,
  });
  process.exit(0);
});

/** A session token for the baseline, from the mock's /session with our OAuth header. */
async function sessionOf(msg: Start): Promise<string> {
  const res = await request(`${msg.url}/session`, {
    headers: { authorization: oauth1Header('GET', `${msg.url}/session`, msg.credentials) },
  });
  return ((await res.body.json()) as { auth_session_token: string }).auth_session_token;
}
