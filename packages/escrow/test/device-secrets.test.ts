import { describe, expect, it } from 'vitest';
import {
  bootstrapTokenForDevice,
  confirmPreBootPassword,
  createBypassCode,
  DEFAULT_PASSWORD_ALPHABET,
  ESCROW_SYSTEM_ACTOR,
  escrowBypassCodeResponse,
  generatePassword,
  SecretKind,
  setPreBootPasswordCommand,
  storeBootstrapToken,
  storeBypassCode,
  verifyBypassCode,
  verifyPreBootPasswordCommand,
} from '../src/index';
import { dumpOf, setup } from './support';

describe('password generation', () => {
  it('draws the requested length from the alphabet', () => {
    expect(generatePassword()).toMatch(new RegExp(`^[${DEFAULT_PASSWORD_ALPHABET}]{20}$`));
    expect(generatePassword({ alphabet: '01', length: 64 })).toMatch(/^[01]{64}$/);
    expect(new Set(Array.from({ length: 50 }, () => generatePassword())).size).toBe(50);
  });

  it('has no modulo bias: with 200 characters, the first 56 are not favoured', () => {
    // 256 % 200 = 56: folding bytes with a modulo would make characters 0–55 twice as likely as the rest.
    const alphabet = Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x100 + i)).join('');
    const s = generatePassword({ alphabet, length: 1024 });
    let low = 0;
    let total = 0;
    for (let round = 0; round < 40; round++) {
      for (const c of round === 0 ? s : generatePassword({ alphabet, length: 1024 })) {
        if (c.charCodeAt(0) - 0x100 < 56) low++;
        total++;
      }
    }
    // Unbiased: 56/200 = 0.28; with a modulo it would be 112/256 = 0.4375.
    expect(low / total).toBeGreaterThan(0.26);
    expect(low / total).toBeLessThan(0.3);
  });

  it('refuses bad alphabets and lengths', () => {
    for (const o of [
      { alphabet: 'a' },
      { alphabet: 'aab' },
      { length: 0 },
      { length: 1.5 },
      { length: 5000 },
    ]) {
      expect(() => generatePassword(o)).toThrow(
        expect.objectContaining({ name: 'EscrowError', code: 'INVALID_INPUT' }),
      );
    }
  });
});

describe('Recovery Lock and firmware passwords', () => {
  it('sets a first password, keeps it pending until acknowledged, then verifies with it', async () => {
    const { vault, storage } = setup();
    const set = await setPreBootPasswordCommand({
      vault,
      udid: 'UDID-1',
      which: 'recovery-lock',
      actor: 'alice',
      reason: 'policy',
    });
    expect(set.Command.RequestType).toBe('SetRecoveryLock');
    expect(set.Command.CurrentPassword).toBeUndefined();
    const first = set.Command.NewPassword;
    expect(first).toHaveLength(20);
    expect(await vault.has('UDID-1', SecretKind.recoveryLockPassword)).toBe(false);
    const pendingRow = `${SecretKind.pendingRecoveryLockPassword}:${set.CommandUUID}`;
    expect(await vault.has('UDID-1', pendingRow)).toBe(true);
    await confirmPreBootPassword({
      vault,
      udid: 'UDID-1',
      which: 'recovery-lock',
      commandUuid: set.CommandUUID,
      acknowledged: true,
    });
    expect(await vault.has('UDID-1', pendingRow)).toBe(false);

    const verify = await verifyPreBootPasswordCommand({
      vault,
      udid: 'UDID-1',
      which: 'recovery-lock',
      actor: 'bob',
      reason: 'audit',
    });
    expect(verify.Command).toMatchObject({ RequestType: 'VerifyRecoveryLock', Password: first });

    // A change the Mac refuses leaves the acknowledged password in place.
    const change = await setPreBootPasswordCommand({
      vault,
      udid: 'UDID-1',
      which: 'recovery-lock',
      actor: 'alice',
      reason: 'rotate',
      newPassword: 'Second-Password-1',
    });
    expect(change.Command).toMatchObject({ CurrentPassword: first, NewPassword: 'Second-Password-1' });
    await confirmPreBootPassword({
      vault,
      udid: 'UDID-1',
      which: 'recovery-lock',
      commandUuid: change.CommandUUID,
      acknowledged: false,
    });
    const again = await verifyPreBootPasswordCommand({
      vault,
      udid: 'UDID-1',
      which: 'recovery-lock',
      actor: 'bob',
      reason: 'audit',
    });
    expect(again.Command.Password).toBe(first);

    const events = (await storage.listAuditEvents({ owner: 'UDID-1' })).items.map(
      (e) => `${e.actor}:${e.kind}`,
    );
    expect(events).toEqual([
      `${ESCROW_SYSTEM_ACTOR}:recovery-lock-password-pending:${set.CommandUUID}`,
      'bob:recovery-lock-password',
      'alice:recovery-lock-password',
      'bob:recovery-lock-password',
    ]);
    expect(await dumpOf(storage)).not.toContain(first);
  });

  it('keeps the password the Mac acknowledged when two changes were queued before it answered', async () => {
    const { vault } = setup();
    const which = 'recovery-lock' as const;
    const options = { vault, udid: 'UDID-1', which, actor: 'alice', reason: 'rotate' };
    const first = await setPreBootPasswordCommand({ ...options, newPassword: 'First-Password-1' });
    // The admin asks again before the Mac checks in: both commands are queued.
    const second = await setPreBootPasswordCommand({ ...options, newPassword: 'Second-Password-2' });
    // The Mac runs them in order: the first succeeds; the second names a current password the Mac
    // no longer has (none), so it fails.
    await confirmPreBootPassword({
      vault,
      udid: 'UDID-1',
      which,
      commandUuid: first.CommandUUID,
      acknowledged: true,
    });
    await confirmPreBootPassword({
      vault,
      udid: 'UDID-1',
      which,
      commandUuid: second.CommandUUID,
      acknowledged: false,
    });
    const { text } = await vault.read({
      owner: 'UDID-1',
      kind: SecretKind.recoveryLockPassword,
      actor: 'bob',
      reason: 'check',
    });
    expect(text).toBe('First-Password-1');
    await expect(
      confirmPreBootPassword({ vault, udid: 'UDID-1', which, acknowledged: true } as never),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      setPreBootPasswordCommand({ ...options, which: 'constructor' as never }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('builds the firmware-password commands the same way', async () => {
    const { vault } = setup();
    const set = await setPreBootPasswordCommand({
      vault,
      udid: 'UDID-2',
      which: 'firmware',
      actor: 'a',
      reason: 'r',
      generate: { alphabet: '0123456789', length: 8 },
    });
    expect(set.Command).toMatchObject({ RequestType: 'SetFirmwarePassword' });
    expect(set.Command.NewPassword).toMatch(/^\d{8}$/);
    await confirmPreBootPassword({
      vault,
      udid: 'UDID-2',
      which: 'firmware',
      commandUuid: set.CommandUUID,
      acknowledged: true,
    });
    const verify = await verifyPreBootPasswordCommand({
      vault,
      udid: 'UDID-2',
      which: 'firmware',
      actor: 'a',
      reason: 'r',
    });
    expect(verify.Command).toMatchObject({
      RequestType: 'VerifyFirmwarePassword',
      Password: set.Command.NewPassword,
    });
    await expect(
      verifyPreBootPasswordCommand({ vault, udid: 'UDID-3', which: 'firmware', actor: 'a', reason: 'r' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('Activation Lock bypass codes and bootstrap tokens', () => {
  it('stores the code a device reports, canonical, and refuses a non-code without storing', async () => {
    const { vault } = setup();
    const { code, hash } = await createBypassCode();
    await escrowBypassCodeResponse(vault, 'UDID-1', {
      ActivationLockBypassCode: code.toLowerCase().replaceAll('-', ''),
    });
    const read = await vault.read({
      owner: 'UDID-1',
      kind: SecretKind.activationLockBypassCode,
      actor: 'alice',
      reason: 'device returned',
    });
    expect(read.text).toBe(code);
    expect(await verifyBypassCode(read.text, hash)).toBe(true);
    await expect(
      escrowBypassCodeResponse(vault, 'UDID-2', { ActivationLockBypassCode: 'nope' }),
    ).rejects.toMatchObject({ code: 'INVALID_BYPASS_CODE' });
    await expect(escrowBypassCodeResponse(vault, 'UDID-2', {} as never)).rejects.toMatchObject({
      code: 'INVALID_RESPONSE',
    });
    await expect(storeBypassCode(vault, 'UDID-1', 'bad')).rejects.toMatchObject({
      code: 'INVALID_BYPASS_CODE',
    });
    expect(await vault.has('UDID-2', SecretKind.activationLockBypassCode)).toBe(false);
    expect(
      (
        await vault.read({
          owner: 'UDID-1',
          kind: SecretKind.activationLockBypassCode,
          actor: 'a',
          reason: 'r',
        })
      ).text,
    ).toBe(code);
  });

  it('keeps a bootstrap token sealed and hands it to its device with an audit event', async () => {
    const { vault, storage } = setup();
    const token = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const asDevice = { actor: 'device:UDID-1' };
    expect(await bootstrapTokenForDevice(vault, 'UDID-1', asDevice)).toBeUndefined();
    await storeBootstrapToken(vault, 'UDID-1', token);
    expect(await bootstrapTokenForDevice(vault, 'UDID-1', asDevice)).toEqual(token);
    expect((await storage.listAuditEvents({ owner: 'UDID-1' })).items[0]).toMatchObject({
      actor: 'device:UDID-1',
      kind: 'bootstrap-token',
    });
    await storeBootstrapToken(vault, 'UDID-1', new Uint8Array());
    expect(await bootstrapTokenForDevice(vault, 'UDID-1', asDevice)).toBeUndefined();
  });

  it('removes the token when SetBootstrapToken comes without one, as Apple specifies', async () => {
    const { vault } = setup();
    await storeBootstrapToken(vault, 'UDID-1', new Uint8Array([1, 2, 3]));
    // "If this field is missing or zero length, the bootstrap token should be removed."
    await storeBootstrapToken(vault, 'UDID-1', undefined);
    expect(await vault.has('UDID-1', SecretKind.bootstrapToken)).toBe(false);
    await expect(storeBootstrapToken(vault, 'UDID-1', 'text' as never)).rejects.toMatchObject({
      name: 'EscrowError',
      code: 'INVALID_RESPONSE',
    });
  });
});
