// "A database dump contains no plaintext secret": what every SQL adapter's at-rest test writes and
// how it searches the dump, written once.

/** Secrets with nothing in common with one another or with mdmkit's own strings. */
export const PLAINTEXT_SECRETS: readonly string[] = [
  'FV-PRK-7Q2M-XK4D-9PLW-RT6H',
  'bypass-3J8N-ZQ5V-HK2W-M7CT',
  'dep-oauth-consumer-secret-Wq84Lz0Pn',
];

/** The ways a dump could carry a plaintext: raw UTF-8, UTF-16LE, hex (both cases) and base64. */
function encodings(secret: string): Buffer[] {
  const utf8 = Buffer.from(secret, 'utf8');
  return [
    utf8,
    Buffer.from(secret, 'utf16le'),
    Buffer.from(utf8.toString('hex')),
    Buffer.from(utf8.toString('hex').toUpperCase()),
    Buffer.from(utf8.toString('base64').replace(/=+$/, '')),
  ];
}

/**
 * The secrets (of {@link PLAINTEXT_SECRETS} or the ones given) found in `dump` in any of the usual
 * encodings; empty when the dump is clean.
 *
 * @example
 * ```ts
 * expect(plaintextsIn(await dumpDatabase())).toEqual([]);
 * ```
 */
export function plaintextsIn(dump: Uint8Array, secrets: readonly string[] = PLAINTEXT_SECRETS): string[] {
  const hay = Buffer.from(dump.buffer, dump.byteOffset, dump.byteLength);
  return secrets.filter((s) => encodings(s).some((e) => hay.includes(e)));
}

/** The parts of a storage handle the at-rest test writes through (structural, so no dependency). */
export interface SealedWriter {
  putSecret(input: { owner: string; kind: string; sealed: Uint8Array }): Promise<unknown>;
  putDepToken(record: {
    name: string;
    sealedCredentials: Uint8Array;
    accessTokenExpiry: Date;
    updatedAt: Date;
  }): Promise<void>;
  appendAuditEvent(event: {
    actor: string;
    action: string;
    owner: string;
    kind: string;
    reason: string;
  }): Promise<unknown>;
}

/**
 * Writes every secret of {@link PLAINTEXT_SECRETS} through `seal` (normally `@mdmkit/crypto`'s
 * `sealSecret` with a key provider): two as device secrets, one as a DEP token's credentials, plus an
 * audit event naming them by owner and kind only.
 *
 * @example
 * ```ts
 * await writeSealedSecrets(storage, (plain, owner, kind) => sealSecret(plain, { provider, owner, kind }));
 * ```
 */
export async function writeSealedSecrets(
  store: SealedWriter,
  seal: (plaintext: Uint8Array, owner: string, kind: string) => Promise<Uint8Array>,
): Promise<void> {
  const enc = (s: string) => new TextEncoder().encode(s);
  const [prk, bypass, dep] = PLAINTEXT_SECRETS as [string, string, string];
  await store.putSecret({
    owner: 'UDID-AT-REST',
    kind: 'filevault-prk',
    sealed: await seal(enc(prk), 'UDID-AT-REST', 'filevault-prk'),
  });
  await store.putSecret({
    owner: 'UDID-AT-REST',
    kind: 'activation-lock-bypass',
    sealed: await seal(enc(bypass), 'UDID-AT-REST', 'activation-lock-bypass'),
  });
  await store.putDepToken({
    name: 'at-rest',
    sealedCredentials: await seal(enc(dep), 'at-rest', 'dep-token'),
    accessTokenExpiry: new Date('2031-01-01T00:00:00Z'),
    updatedAt: new Date(),
  });
  await store.appendAuditEvent({
    actor: 'admin',
    action: 'secret.write',
    owner: 'UDID-AT-REST',
    kind: 'filevault-prk',
    reason: 'at-rest test',
  });
}
