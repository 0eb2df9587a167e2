import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { serializeAsn1 } from './asn1';
import { type DerElement, isPrintableString, parseDer, readOid, readString, Tag } from './der';
import { CryptoError } from './errors';

/** One attribute of a distinguished name. */
export interface NameAttribute {
  oid: string;
  /** Conventional short name (`CN`, `O`, `UID`, …) when known. */
  shortName?: string;
  value: string;
}

/**
 * An X.501 distinguished name. `attributes` lists every attribute in encoding order (multi-valued
 * RDNs flattened); `toString()` joins them in that same order as `CN=x,O=y` with RFC 4514 escaping.
 */
export interface DistinguishedName {
  readonly attributes: readonly NameAttribute[];
  /** The encoded Name (SEQUENCE OF RDN), for exact issuer/subject matching. */
  readonly der: Uint8Array;
  toString(): string;
  /** The first value of the attribute with this short name or OID (`get('CN')`, `get('2.5.4.3')`). */
  get(name: string): string | undefined;
}

/**
 * A name to encode: `"CN=device,O=Example"` (written order is kept), a list of `{ oid, value }`
 * (oid may also be a short name), a parsed {@link DistinguishedName} (re-used byte for byte, e.g. a
 * CSR's subject), or a record `{ CN: 'device', O: 'Example' }`.
 */
export type NameInput =
  | string
  | readonly { oid: string; value: string }[]
  | DistinguishedName
  | Readonly<Record<string, string>>;

function isDistinguishedName(x: unknown): x is DistinguishedName {
  return (
    x instanceof DName ||
    (typeof x === 'object' &&
      x !== null &&
      (x as DistinguishedName).der instanceof Uint8Array &&
      Array.isArray((x as DistinguishedName).attributes))
  );
}

const SHORT_TO_OID: Record<string, string> = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  TITLE: '2.5.4.12',
  GN: '2.5.4.42',
  GIVENNAME: '2.5.4.42',
  INITIALS: '2.5.4.43',
  DNQUALIFIER: '2.5.4.46',
  PSEUDONYM: '2.5.4.65',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  E: '1.2.840.113549.1.9.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
};

const OID_TO_SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** Resolves a short name (case-insensitive) or dotted OID to an OID. */
export function attributeOid(name: string): string {
  if (/^\d+(\.\d+)+$/.test(name)) return name;
  const oid = SHORT_TO_OID[name.toUpperCase()];
  if (!oid) throw new CryptoError('INVALID_CERTIFICATE', `unknown name attribute "${name.slice(0, 40)}"`);
  return oid;
}

function escapeValue(v: string): string {
  let s = v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (s.startsWith('#') || s.startsWith(' ')) s = `\\${s}`;
  if (s.endsWith(' ') && s.length > 0) s = `${s.slice(0, -1)}\\ `;
  return s;
}

class DName implements DistinguishedName {
  readonly attributes: readonly NameAttribute[];
  constructor(
    private readonly rdns: readonly (readonly NameAttribute[])[],
    readonly der: Uint8Array,
  ) {
    this.attributes = Object.freeze(rdns.flat());
  }
  toString(): string {
    return this.rdns
      .map((rdn) => rdn.map((a) => `${a.shortName ?? a.oid}=${escapeValue(a.value)}`).join('+'))
      .join(',');
  }
  get(name: string): string | undefined {
    let oid: string;
    try {
      oid = attributeOid(name);
    } catch {
      return undefined;
    }
    return this.attributes.find((a) => a.oid === oid)?.value;
  }
}

/** Decodes a Name element. @internal */
export function decodeName(el: DerElement): DistinguishedName {
  if (el.tag !== Tag.SEQUENCE) throw new CryptoError('INVALID_DER', 'Name is not a SEQUENCE');
  const rdns: NameAttribute[][] = [];
  for (const rdn of el.children()) {
    if (rdn.tag !== Tag.SET) throw new CryptoError('INVALID_DER', 'RDN is not a SET');
    const attrs: NameAttribute[] = [];
    rdns.push(attrs);
    for (const atv of rdn.children()) {
      const it = atv.iterate();
      const oid = readOid(it.next(Tag.OID, 'attribute type'));
      const valueEl = it.next(undefined, 'attribute value');
      it.end();
      let value: string;
      try {
        value = readString(valueEl);
      } catch {
        // Non-string values are kept visible as #hex, the RFC 4514 form.
        value = `#${Buffer.from(valueEl.raw).toString('hex')}`;
      }
      const shortName = OID_TO_SHORT[oid];
      attrs.push(shortName ? { oid, shortName, value } : { oid, value });
    }
  }
  return new DName(rdns, Uint8Array.from(el.raw));
}

/** Splits an RFC 4514-style string into RDNs of [type, value] pairs, honouring backslash escapes. */
function parseNameString(s: string): [string, string][][] {
  const rdns: [string, string][][] = [];
  let cur: [string, string][] = [];
  let buf = '';
  let type: string | undefined;
  const flush = (end: 'rdn' | 'multi') => {
    if (type === undefined) throw new CryptoError('INVALID_CERTIFICATE', `bad name "${s.slice(0, 80)}"`);
    cur.push([type.trim(), buf.trim()]);
    type = undefined;
    buf = '';
    if (end === 'rdn') {
      rdns.push(cur);
      cur = [];
    }
  };
  // RFC 4514 hex escapes (\C3\A9) are UTF-8 bytes: collect them and decode together.
  let bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length) {
      buf += new TextDecoder().decode(Uint8Array.from(bytes));
      bytes = [];
    }
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      const hex = s.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        flushBytes();
        buf += s[++i];
      }
      continue;
    }
    flushBytes();
    if (c === '=' && type === undefined) {
      type = buf;
      buf = '';
    } else if (c === ',' || c === ';') {
      flush('rdn');
    } else if (c === '+') {
      flush('multi');
    } else {
      buf += c;
    }
  }
  flushBytes();
  if (type !== undefined || buf.trim() !== '') flush('rdn');
  return rdns;
}

const PRINTABLE_OIDS = new Set(['2.5.4.6', '2.5.4.5', '2.5.4.46']);
const IA5_OIDS = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);

function encodeValue(oid: string, value: string): AttributeValue {
  if (PRINTABLE_OIDS.has(oid) && isPrintableString(value))
    return new AttributeValue({ printableString: value });
  if (IA5_OIDS.has(oid)) {
    if (!/^[\x00-\x7f]*$/.test(value)) throw new CryptoError('INVALID_DER', 'IA5String value must be ASCII');
    return new AttributeValue({ ia5String: value });
  }
  return new AttributeValue({ utf8String: value });
}

/**
 * A DER SET OF is sorted by the members' encodings (X.690 §11.6); the schema serializer keeps the
 * given order, so a multi-valued RDN is sorted here.
 */
function derSorted(members: AttributeTypeAndValue[]): AttributeTypeAndValue[] {
  if (members.length < 2) return members;
  return members
    .map((m) => ({ m, der: Buffer.from(serializeAsn1(m, 'INVALID_CERTIFICATE')) }))
    .sort((a, b) => Buffer.compare(a.der, b.der))
    .map(({ m }) => m);
}

/** The schema {@link Name} for a {@link NameInput} string, list or record. @internal */
export function nameSchema(input: Exclude<NameInput, DistinguishedName>): Name {
  let rdns: [string, string][][];
  if (typeof input === 'string') rdns = parseNameString(input);
  else if (Array.isArray(input))
    rdns = (input as { oid: string; value: string }[]).map((a) => [[a.oid, a.value]]);
  else rdns = Object.entries(input as Record<string, string>).map(([k, v]) => [[k, v]]);
  return new Name(
    rdns.map(
      (rdn) =>
        new RelativeDistinguishedName(
          derSorted(
            rdn.map(([t, v]) => {
              if (typeof v !== 'string')
                throw new CryptoError('INVALID_CERTIFICATE', 'name value must be a string');
              const oid = attributeOid(t);
              return new AttributeTypeAndValue({ type: oid, value: encodeValue(oid, v) });
            }),
          ),
        ),
    ),
  );
}

/**
 * DER Name for a {@link NameInput}. Countries and serial numbers are PrintableString, e-mail and
 * DC are IA5String, everything else UTF8String.
 *
 * @example
 * ```ts
 * encodeName('CN=device-1,O=Example');
 * encodeName([{ oid: '0.9.2342.19200300.100.1.1', value: 'com.apple.mgmt.External.1234' }]);
 * ```
 */
export function encodeName(input: NameInput): Uint8Array {
  if (isDistinguishedName(input)) return Uint8Array.from(input.der);
  return serializeAsn1(nameSchema(input), 'INVALID_CERTIFICATE');
}

/**
 * Parses a {@link NameInput} into a {@link DistinguishedName}.
 *
 * @example
 * ```ts
 * toDistinguishedName('CN=device,O=Example').get('O'); // 'Example'
 * ```
 */
export function toDistinguishedName(input: NameInput): DistinguishedName {
  return nameFromDer(encodeName(input));
}

/** Decodes DER Name bytes. @internal */
export function nameFromDer(der: Uint8Array): DistinguishedName {
  return decodeName(parseDer(der));
}

/** Whether two names are equal: identical encodings, or equal attribute lists ignoring case. */
export function namesEqual(a: DistinguishedName, b: DistinguishedName): boolean {
  if (Buffer.compare(Buffer.from(a.der), Buffer.from(b.der)) === 0) return true;
  if (a.attributes.length !== b.attributes.length) return false;
  return a.attributes.every((x, i) => {
    const y = b.attributes[i]!;
    return x.oid === y.oid && normalize(x.value) === normalize(y.value);
  });
}

function normalize(v: string): string {
  return v.trim().replace(/\s+/g, ' ').toLowerCase();
}
