import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery a test receiver got. */
export interface Received {
  body: Buffer;
  signature: string | undefined;
  json: { event_id: string; topic: string } & Record<string, unknown>;
}

/**
 * A webhook receiver for tests: answers per `mode` ('ok' 200, 'fail' 500, 'hang' never), can go down
 * and come back on the same port, and keeps what it accepted with 2xx and everything it saw.
 */
export class TestReceiver {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Switch to 'hang' once this many deliveries were accepted. */
  hangAfter: number | undefined;
  /** Deliveries answered 200. */
  readonly accepted: Received[] = [];
  /** Every delivery seen, whatever the answer. */
  readonly seen: Received[] = [];
  #server: Server | undefined;
  #port = 0;
  #hanging: (() => void)[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hook`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const got: Received = {
          body,
          signature: req.headers['x-hmac-signature'] as string | undefined,
          json: JSON.parse(body.toString('utf8')),
        };
        this.seen.push(got);
        if (this.hangAfter !== undefined && this.accepted.length >= this.hangAfter) this.mode = 'hang';
        if (this.mode === 'hang') {
          this.#hanging.push(() => res.destroy());
          return;
        }
        if (this.mode === 'fail') {
          res.writeHead(500).end('down for maintenance');
          return;
        }
        this.accepted.push(got);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', () => resolve()));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    for (const end of this.#hanging.splice(0)) end();
    const s = this.#server;
    this.#server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}
