import { Buffer } from 'node:buffer';
import type { Handler } from '../src/index';

/** What the echo handler saw, as it reports it in its JSON body. */
export interface Seen {
  method: string;
  path: string;
  rawQuery: string;
  a: string | null;
  header: string | null;
  bodyLength: number;
  body: string;
  remoteAddress: string | null;
  certSource: string | null;
  certDer: string | null;
}

/** A handler that answers with everything it was given. */
export const echo: Handler = (req) => {
  const cert = req.clientCertificate;
  const seen: Seen = {
    method: req.method,
    path: req.path,
    rawQuery: req.rawQuery,
    a: req.query.get('a'),
    header: req.headers.get('X-Test') ?? null,
    bodyLength: req.body.byteLength,
    body: Buffer.from(req.body).toString('utf8'),
    remoteAddress: req.remoteAddress ?? null,
    certSource: cert?.source ?? null,
    certDer: cert ? Buffer.from(cert.der).toString('base64') : null,
  };
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(seen) };
};
