import type { MdmStorage } from '../storage';
import type { ConformanceOpenOptions } from './index';

/** Shared state the conformance sections use. Internal to the suite. */
export interface ConformanceContext {
  /** Main handle. */
  readonly s: MdmStorage;
  /** A second handle on the same database. */
  readonly s2: MdmStorage;
  readonly workers: number;
  readonly timeoutMs: number;
  /** A prefix unique to this call, so tests never see each other's rows. */
  prefix(): string;
  /** Another handle on the main database (closed by the suite). */
  open(options?: ConformanceOpenOptions): Promise<MdmStorage>;
  /** A new empty database (destroyed by the suite). */
  fresh(): Promise<{ open(options?: ConformanceOpenOptions): Promise<MdmStorage> }>;
}

/** Bytes from text, for payloads. */
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Text from bytes. */
export const text = (b: Uint8Array | undefined): string => (b ? new TextDecoder().decode(b) : '');
