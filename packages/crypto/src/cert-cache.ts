import { hash } from 'node:crypto';
import { type Certificate, certificateFromElement, parseCertificate } from './certificate';
import type { DerElement } from './der';

/**
 * Parsed certificates keyed by the SHA-256 of their DER, least recently used evicted first. Devices
 * send the same identity certificate on every request, so verifying a CMS signature costs a hash
 * lookup instead of a certificate parse and a public key import. Entries are immutable, so sharing is
 * safe; the bound keeps memory flat under a flood of distinct certificates.
 */
class CertificateCache {
  private readonly map = new Map<string, Certificate>();
  hits = 0;
  misses = 0;
  constructor(public capacity: number) {}

  get(key: string): Certificate | undefined {
    const c = this.map.get(key);
    if (c) {
      // Re-insert to mark as most recently used.
      this.map.delete(key);
      this.map.set(key, c);
      this.hits++;
    } else {
      this.misses++;
    }
    return c;
  }

  set(key: string, cert: Certificate): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, cert);
    this.trim();
  }

  trim(): void {
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  clear(): void {
    this.map.clear();
    this.hits = 0;
    this.misses = 0;
  }

  get size(): number {
    return this.map.size;
  }
}

const cache = new CertificateCache(1024);

/** A parsed certificate for an element, from the cache when seen before. @internal */
export function cachedCertificate(el: DerElement): Certificate {
  const key = hash('sha256', el.raw, 'base64');
  const hit = cache.get(key);
  if (hit) return hit;
  const cert = certificateFromElement(el);
  cache.set(key, cert);
  return cert;
}

/** Same for a certificate's DER bytes. @internal */
export function cachedCertificateFromDer(der: Uint8Array): Certificate {
  const key = hash('sha256', der, 'base64');
  const hit = cache.get(key);
  if (hit) return hit;
  const cert = parseCertificate(der);
  cache.set(key, cert);
  return cert;
}

/**
 * Sets how many parsed signer certificates CMS verification keeps (default 1024; 0 disables the cache).
 *
 * @example
 * ```ts
 * configureCertificateCache({ capacity: 10_000 }); // a large fleet
 * ```
 */
export function configureCertificateCache(opts: { capacity: number }): void {
  if (!Number.isInteger(opts.capacity) || opts.capacity < 0)
    throw new RangeError('capacity must be an integer ≥ 0');
  cache.capacity = opts.capacity;
  cache.trim();
}

/**
 * Empties the certificate cache.
 *
 * @example
 * ```ts
 * clearCertificateCache();
 * ```
 */
export function clearCertificateCache(): void {
  cache.clear();
}

/**
 * Cache statistics (for metrics and tests).
 *
 * @example
 * ```ts
 * const { hits, misses } = certificateCacheStats();
 * ```
 */
export function certificateCacheStats(): { size: number; capacity: number; hits: number; misses: number } {
  return { size: cache.size, capacity: cache.capacity, hits: cache.hits, misses: cache.misses };
}
