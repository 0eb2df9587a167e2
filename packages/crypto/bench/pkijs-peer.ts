// pkijs 3 (WebCrypto engine) doing the same detached SignedData verification: the library this
// package would otherwise use, measured for comparison only.
import { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];

let ready = false;

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Parses a DER SignedData with pkijs and verifies its first signer over `body`; true when valid. */
export async function pkijsVerifyDetached(der: Uint8Array, body: Uint8Array): Promise<boolean> {
  if (!ready) {
    pkijs.setEngine(
      'node-webcrypto',
      new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as EngineCrypto }),
    );
    ready = true;
  }
  const asn = asn1js.fromBER(toArrayBuffer(der));
  if (asn.offset === -1) throw new Error('pkijs could not decode the SignedData');
  const ci = new pkijs.ContentInfo({ schema: asn.result });
  const sd = new pkijs.SignedData({ schema: ci.content });
  return sd.verify({ signer: 0, data: toArrayBuffer(body), checkChain: false });
}
