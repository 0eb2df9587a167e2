import { describe, expect, it } from 'vitest';
import { HttpError } from '../src/index';
import { AddressSet, parseIpAddress } from '../src/ip';

describe('addresses and ranges of trusted proxies', () => {
  it('parses IPv4 and IPv6, and folds IPv4-mapped IPv6 to IPv4', () => {
    expect([...parseIpAddress('10.1.2.3')!]).toEqual([10, 1, 2, 3]);
    expect([...parseIpAddress('::ffff:10.1.2.3')!]).toEqual([10, 1, 2, 3]);
    expect([...parseIpAddress('::ffff:a01:203')!]).toEqual([10, 1, 2, 3]);
    expect(parseIpAddress('::1')!.length).toBe(16);
    expect(parseIpAddress('fe80::1%eth0')![0]).toBe(0xfe);
    expect([...parseIpAddress('2001:db8::8:800:200c:417a')!.subarray(10)]).toEqual([
      0x08, 0x00, 0x20, 0x0c, 0x41, 0x7a,
    ]);
  });

  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1::2::3',
      '12345::',
      'g::1',
      '1:2:3:4:5:6:7:8:9',
      'x',
    ]) {
      expect(parseIpAddress(bad), bad).toBeUndefined();
    }
  });

  it('matches CIDR ranges, including the peer forms a dual-stack socket reports', () => {
    const set = new AddressSet(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::ffff:172.16.0.0/108']);
    expect(set.has('10.200.3.4')).toBe(true);
    expect(set.has('::ffff:10.200.3.4')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has('192.168.1.7')).toBe(true);
    expect(set.has('192.168.1.8')).toBe(false);
    expect(set.has('fd12::1')).toBe(true);
    expect(set.has('fe12::1')).toBe(false);
    expect(set.has('172.16.200.1')).toBe(true);
    expect(set.has('172.32.0.1')).toBe(false);
    expect(set.has(undefined)).toBe(false);
    expect(set.has('garbage')).toBe(false);
    expect(new AddressSet([]).has('127.0.0.1')).toBe(false);
  });

  it('a bad range is an INVALID_OPTIONS error when the adapter is built', () => {
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'nonsense', '10.0.0.0/x', '::ffff:10.0.0.0/64']) {
      expect(() => new AddressSet([bad])).toThrow(HttpError);
    }
  });
});
