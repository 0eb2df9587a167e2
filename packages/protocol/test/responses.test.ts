import { parse } from '@mdmkit/plist';
import { describe, expect, it } from 'vitest';
import {
  declarativeManagementResponse,
  declineUserChannel,
  emptyResponse,
  getBootstrapTokenResponse,
  getTokenResponse,
  ProtocolError,
  softwareUpdateRequired,
  unauthorizedResponse,
  unrecognizedDevice,
  userAuthenticateChallenge,
  userAuthenticateToken,
  watchPairingTokenMissing,
  wellKnownFailed,
} from '../src/index';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('check-in responses', () => {
  it('empty 200 for Authenticate, TokenUpdate, CheckOut, SetBootstrapToken', () => {
    expect(emptyResponse()).toEqual({ status: 200, headers: {}, body: new Uint8Array(0) });
  });
  it('GetBootstrapToken with and without a token', () => {
    const tok = new Uint8Array([9, 8, 7]);
    expect(parse(getBootstrapTokenResponse({ BootstrapToken: tok }).body)).toEqual({ BootstrapToken: tok });
    expect(parse(getBootstrapTokenResponse().body)).toEqual({});
  });
  it('GetToken requires TokenData', () => {
    const data = new TextEncoder().encode('jwt');
    expect(parse(getTokenResponse({ TokenData: data }).body)).toEqual({ TokenData: data });
    expect(() => getTokenResponse({} as never)).toThrow(ProtocolError);
  });
  it('UserAuthenticate: empty challenge, then token, or 410', () => {
    expect(parse(userAuthenticateChallenge().body)).toEqual({ DigestChallenge: '' });
    expect(parse(userAuthenticateChallenge('Digest nonce="x"').body)).toEqual({
      DigestChallenge: 'Digest nonce="x"',
    });
    expect(parse(userAuthenticateToken('tok').body)).toEqual({ AuthToken: 'tok' });
    expect(declineUserChannel().status).toBe(410);
  });
  it('DeclarativeManagement answers JSON', () => {
    const r = declarativeManagementResponse({ SyncTokens: { DeclarationsToken: 'a' } });
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(text(r.body))).toEqual({ SyncTokens: { DeclarationsToken: 'a' } });
    expect(declarativeManagementResponse().body.length).toBe(0);
  });
  it('401 only when asked for deliberately', () => {
    expect(unauthorizedResponse({ deliberate: true }).status).toBe(401);
    expect(() => unauthorizedResponse({} as never)).toThrow(ProtocolError);
  });
});

describe('403 error documents', () => {
  it('unrecognized device, JSON and plist', () => {
    const j = unrecognizedDevice({ description: 'gone' });
    expect(j.status).toBe(403);
    expect(JSON.parse(text(j.body))).toEqual({ description: 'gone', code: 'com.apple.unrecognized.device' });
    const p = unrecognizedDevice({}, { format: 'plist' });
    expect(p.headers['content-type']).toMatch(/xml/);
    expect(parse(p.body)).toEqual({ code: 'com.apple.unrecognized.device' });
  });
  it('software update required validates details', () => {
    const r = softwareUpdateRequired({ details: { OSVersion: '17.4', BuildVersion: '21E219' } });
    expect(JSON.parse(text(r.body))).toMatchObject({
      code: 'com.apple.softwareupdate.required',
      details: { OSVersion: '17.4' },
    });
    expect(() => softwareUpdateRequired({ details: {} } as never)).toThrow(ProtocolError);
  });
  it('watch pairing token missing and well-known failed', () => {
    expect(JSON.parse(text(watchPairingTokenMissing({ details: { 'security-token': 's' } }).body)).code).toBe(
      'com.apple.watch.pairing.token.missing',
    );
    expect(JSON.parse(text(wellKnownFailed().body)).code).toBe('com.apple.well-known.failed');
  });
});
