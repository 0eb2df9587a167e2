import { execFileSync } from 'node:child_process';
import { decodeReportFor } from '@mdmkit/commands';
import { buildXml } from '@mdmkit/plist';
import { encodeProfile, parseProfile } from '@mdmkit/profiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  diskEncryptionState,
  escrowFileVaultKey,
  escrowRotatedFileVaultKey,
  fileVaultProfile,
  fileVaultRotationCommand,
  SecretKind,
} from '../src/index';
import { dumpOf, openssl, opensslOk, pythonOk, setup, tempDir } from './support';

const PRK = 'K7QP-2M4D-XW9R-H3TJ-8CNV-6FLB';
const ok = opensslOk('FileVault escrow interop with openssl cms');

const CIPHERS = [
  ['AES-128-CBC', '-aes-128-cbc'],
  ['AES-256-CBC', '-aes-256-cbc'],
  ['DES3', '-des3'],
] as const;
const TRANSPORTS = [
  ['rsaEncryption', []],
  ['RSA-OAEP', ['-keyopt', 'rsa_padding_mode:oaep']],
] as const;

describe.skipIf(!ok)('FileVault key escrow with openssl standing in for the Mac', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  /** Encrypts `text` to `certPem` the way a Mac does, with openssl cms. */
  const macEncrypts = (certPem: string, text: string, flags: readonly string[]): Uint8Array => {
    const cert = dir.write(`cert-${Math.random()}.pem`, certPem);
    const input = dir.write(`prk-${Math.random()}.txt`, text);
    // Key-transport options (-keyopt) apply to the -recip before them.
    const cipher = flags.filter((f) => f.startsWith('-') && f !== '-keyopt');
    const keyopts = flags.filter((f) => !cipher.includes(f));
    return openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-in',
      input,
      '-outform',
      'DER',
      ...cipher,
      '-recip',
      cert,
      ...keyopts,
    ]);
  };

  for (const [tName, tFlags] of TRANSPORTS) {
    for (const [cName, cFlag] of CIPHERS) {
      it(`decrypts and stores a key sent with ${tName} + ${cName}`, async () => {
        const { vault, keyring, storage } = setup();
        const { certificate } = await keyring.current();
        const cms = macEncrypts(certificate.pem, PRK, [cFlag, ...tFlags]);
        const out = await escrowFileVaultKey({
          vault,
          keyring,
          udid: 'UDID-1',
          response: {
            SecurityInfo: {
              FDE_Enabled: true,
              FDE_PersonalRecoveryKeyCMS: cms,
              FDE_PersonalRecoveryKeyDeviceKey: 'C02XYZ',
            },
          },
        });
        expect(out).toMatchObject({
          status: 'escrowed',
          version: 1,
          certificateSerial: certificate.serialNumber,
          deviceKey: 'C02XYZ',
        });
        const read = await vault.read({
          owner: 'UDID-1',
          kind: SecretKind.fileVaultRecoveryKey,
          actor: 'alice',
          reason: 'user locked out',
        });
        expect(read.text).toBe(PRK);
        expect(await dumpOf(storage)).not.toContain(PRK);
      });
    }
  }

  it('decrypts a key escrowed under a certificate renewed since (kept in the keyring)', async () => {
    const { vault, keyring } = setup();
    const old = await keyring.current();
    const oldCms = macEncrypts(old.certificate.pem, PRK, ['-aes-256-cbc']);
    await new Promise((r) => setTimeout(r, 5));
    const renewed = await keyring.renew();
    expect(renewed.certificate.serialNumber).not.toBe(old.certificate.serialNumber);
    expect((await keyring.current()).certificate.serialNumber).toBe(renewed.certificate.serialNumber);
    const out = await escrowFileVaultKey({
      vault,
      keyring,
      udid: 'UDID-1',
      response: { SecurityInfo: { FDE_Enabled: true, FDE_PersonalRecoveryKeyCMS: oldCms } },
    });
    expect(out).toMatchObject({ status: 'escrowed', certificateSerial: old.certificate.serialNumber });
  });

  it('takes the key from a real SecurityInfo report body as a Mac sends it', async () => {
    const { vault, keyring } = setup();
    const { certificate } = await keyring.current();
    const body = buildXml({
      UDID: 'UDID-1',
      CommandUUID: 'C-1',
      Status: 'Acknowledged',
      SecurityInfo: {
        FDE_Enabled: true,
        FDE_HasPersonalRecoveryKey: true,
        FDE_PersonalRecoveryKeyCMS: macEncrypts(certificate.pem, PRK, ['-aes-128-cbc']),
      },
    });
    const report = decodeReportFor('SecurityInfo', body);
    expect(report.response).toBeDefined();
    expect(
      await escrowFileVaultKey({ vault, keyring, udid: 'UDID-1', response: report.response! }),
    ).toMatchObject({ status: 'escrowed' });
  });

  describe('bad input loses nothing', () => {
    let ctx: ReturnType<typeof setup>;
    let certPem: string;
    beforeAll(async () => {
      ctx = setup();
      certPem = (await ctx.keyring.current()).certificate.pem;
      await escrowFileVaultKey({
        ...ctx,
        udid: 'UDID-1',
        response: {
          SecurityInfo: { FDE_PersonalRecoveryKeyCMS: macEncrypts(certPem, PRK, ['-aes-256-cbc']) },
        },
      });
    });
    const stillThere = async () =>
      expect(
        (
          await ctx.vault.read({
            owner: 'UDID-1',
            kind: SecretKind.fileVaultRecoveryKey,
            actor: 'a',
            reason: 'r',
          })
        ).text,
      ).toBe(PRK);

    it('refuses a key encrypted for a certificate we do not hold', async () => {
      const stranger = setup();
      const strangerPem = (await stranger.keyring.current()).certificate.pem;
      const cms = macEncrypts(strangerPem, 'EVIL-EVIL-EVIL-EVIL-EVIL-EVIL', ['-aes-256-cbc']);
      await expect(
        escrowFileVaultKey({
          ...ctx,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_PersonalRecoveryKeyCMS: cms } },
        }),
      ).rejects.toMatchObject({
        name: 'EscrowError',
        code: 'NO_ESCROW_KEY',
      });
      await stillThere();
    });

    it('refuses tampered ciphertext (every byte position of the encrypted content)', async () => {
      const cms = macEncrypts(certPem, PRK, ['-aes-256-cbc']);
      // The encrypted content is the last 32 bytes (two AES blocks) of the DER.
      for (let i = cms.length - 32; i < cms.length; i++) {
        const t = new Uint8Array(cms);
        t[i]! ^= 0x5a;
        const err = await escrowFileVaultKey({
          ...ctx,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_PersonalRecoveryKeyCMS: t } },
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ name: 'EscrowError' });
        expect(['DECRYPT_FAILED', 'INVALID_RESPONSE']).toContain((err as { code: string }).code);
      }
      await expect(
        escrowFileVaultKey({
          ...ctx,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_PersonalRecoveryKeyCMS: new Uint8Array([1, 2, 3]) } },
        }),
      ).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
      await expect(
        escrowFileVaultKey({
          ...ctx,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_PersonalRecoveryKeyCMS: new Uint8Array(70_000) } },
        }),
      ).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
      await stillThere();
    });

    it('refuses to use escrow keys sealed under another key provider, storing nothing', async () => {
      const { createEscrowKeyring } = await import('../src/index');
      const { provider } = await import('./support');
      const wrongKeyring = createEscrowKeyring({
        secrets: ctx.storage,
        keyProvider: provider(99, 'static-7'),
      });
      const cms = macEncrypts(certPem, 'EVIL-EVIL-EVIL-EVIL-EVIL-EVIL', ['-aes-256-cbc']);
      await expect(
        escrowFileVaultKey({
          vault: ctx.vault,
          keyring: wrongKeyring,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_PersonalRecoveryKeyCMS: cms } },
        }),
      ).rejects.toMatchObject({ name: 'EscrowError', code: 'SECRET_UNREADABLE' });
      await stillThere();
    });

    it('keeps decrypting while escrow identities move to a new key provider', async () => {
      const { createEscrowKeyring, createSecretVault } = await import('../src/index');
      const { provider } = await import('./support');
      const old = setup(provider(1));
      const { certificate } = await old.keyring.current();
      // The move: the vault and keyring get a new provider and keep the old one until rewrapAll ends.
      const next = provider(2);
      const vault = createSecretVault({
        secrets: old.storage,
        audit: old.storage,
        keyProvider: next,
        previousKeyProviders: [provider(1)],
      });
      const keyring = createEscrowKeyring({
        secrets: old.storage,
        keyProvider: next,
        previousKeyProviders: [provider(1)],
      });
      const escrowOnce = () =>
        escrowFileVaultKey({
          vault,
          keyring,
          udid: 'UDID-9',
          response: {
            SecurityInfo: { FDE_PersonalRecoveryKeyCMS: macEncrypts(certificate.pem, PRK, ['-aes-256-cbc']) },
          },
        });
      expect(await escrowOnce()).toMatchObject({ status: 'escrowed' });
      await vault.rewrapAll();
      expect(await escrowOnce()).toMatchObject({ status: 'escrowed' });
      expect((await keyring.current()).certificate.serialNumber).toBe(certificate.serialNumber);
    });

    it('reports FileVault off or no key without touching the stored key', async () => {
      expect(
        await escrowFileVaultKey({
          ...ctx,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_Enabled: false } },
        }),
      ).toEqual({ status: 'fde-disabled' });
      expect(
        await escrowFileVaultKey({
          ...ctx,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_Enabled: true } },
        }),
      ).toEqual({ status: 'no-key-reported' });
      await expect(escrowFileVaultKey({ ...ctx, udid: 'UDID-1', response: {} })).rejects.toMatchObject({
        code: 'INVALID_RESPONSE',
      });
      await expect(
        escrowFileVaultKey({
          ...ctx,
          udid: 'UDID-1',
          response: { SecurityInfo: { FDE_PersonalRecoveryKeyCMS: 'text' } },
        }),
      ).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
      await stillThere();
    });
  });

  it('rotates: the command carries the current key and our certificate; the new key is escrowed', async () => {
    const { vault, keyring, storage } = setup();
    const { certificate } = await keyring.current();
    await escrowFileVaultKey({
      vault,
      keyring,
      udid: 'UDID-1',
      response: {
        SecurityInfo: { FDE_PersonalRecoveryKeyCMS: macEncrypts(certificate.pem, PRK, ['-aes-256-cbc']) },
      },
    });
    const command = await fileVaultRotationCommand({
      vault,
      keyring,
      udid: 'UDID-1',
      actor: 'rotation-job',
      reason: 'key was viewed',
    });
    expect(command.Command).toMatchObject({ KeyType: 'personal', FileVaultUnlock: { Password: PRK } });
    expect(Buffer.from(command.Command.ReplyEncryptionCertificate!)).toEqual(Buffer.from(certificate.der));
    const events = (await storage.listAuditEvents({ owner: 'UDID-1' })).items;
    expect(events.map((e) => e.actor)).toEqual(['rotation-job']);

    const replyCert = `-----BEGIN CERTIFICATE-----\n${Buffer.from(command.Command.ReplyEncryptionCertificate!).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    const newKey = 'NEW1-NEW2-NEW3-NEW4-NEW5-NEW6';
    const out = await escrowRotatedFileVaultKey({
      vault,
      keyring,
      udid: 'UDID-1',
      response: {
        RotateResult: {
          EncryptedNewRecoveryKey: macEncrypts(replyCert, newKey, [
            '-aes-128-cbc',
            '-keyopt',
            'rsa_padding_mode:oaep',
          ]),
        },
      },
    });
    expect(out.version).toBe(2);
    expect(
      (await vault.read({ owner: 'UDID-1', kind: SecretKind.fileVaultRecoveryKey, actor: 'a', reason: 'r' }))
        .text,
    ).toBe(newKey);
    await expect(
      escrowRotatedFileVaultKey({ vault, keyring, udid: 'UDID-1', response: {} }),
    ).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
  });
});

describe('FileVault profile', () => {
  it('holds the certificate, the escrow payload pointing at it, FileVault deferred to login, and no disabling', async () => {
    const { keyring } = setup();
    const { certificate } = await keyring.current();
    const profile = fileVaultProfile({
      identifier: 'com.example.fv',
      escrowCertificate: certificate,
      location: 'Example IT',
      maxBypassAttempts: 2,
    });
    const parsed = parseProfile(encodeProfile(profile));
    expect(parsed.issues).toEqual([]);
    const byType = new Map(parsed.payloads.map((p) => [p.payloadType, p.dict]));
    const cert = byType.get('com.apple.security.pkcs1')!;
    expect(Buffer.from(cert.PayloadContent as Uint8Array)).toEqual(Buffer.from(certificate.der));
    expect(byType.get('com.apple.security.FDERecoveryKeyEscrow')).toMatchObject({
      Location: 'Example IT',
      EncryptCertPayloadUUID: cert.PayloadUUID,
    });
    expect(byType.get('com.apple.MCX.FileVault2')).toMatchObject({
      Enable: 'On',
      Defer: true,
      DeferForceAtUserLoginMaxBypassAttempts: 2,
      ShowRecoveryKey: false,
    });
    expect(byType.get('com.apple.MCX')).toMatchObject({ dontAllowFDEDisable: true });
    const without = fileVaultProfile({
      identifier: 'com.example.fv',
      escrowCertificate: certificate,
      location: 'X',
      preventDisable: false,
    });
    expect(without.PayloadContent.map((p) => p.PayloadType)).not.toContain('com.apple.MCX');
    expect(() =>
      fileVaultProfile({
        identifier: 'com.example.fv',
        escrowCertificate: certificate,
        location: 'X',
        maxBypassAttempts: 10_000,
      }),
    ).toThrow(expect.objectContaining({ name: 'ProfileError' }));
  });

  it.skipIf(!pythonOk('FileVault profile read by python plistlib'))(
    'is a property list python plistlib reads',
    async () => {
      const { keyring } = setup();
      const { certificate } = await keyring.current();
      const bytes = encodeProfile(
        fileVaultProfile({
          identifier: 'com.example.fv',
          escrowCertificate: certificate,
          location: 'Example IT',
        }),
      );
      const out = execFileSync(
        'python3',
        [
          '-c',
          'import plistlib,sys; p=plistlib.loads(sys.stdin.buffer.read()); print(",".join(sorted(x["PayloadType"] for x in p["PayloadContent"])))',
        ],
        { input: bytes },
      )
        .toString()
        .trim();
      expect(out).toBe(
        'com.apple.MCX,com.apple.MCX.FileVault2,com.apple.security.FDERecoveryKeyEscrow,com.apple.security.pkcs1',
      );
    },
  );
});

describe('disk-encryption state', () => {
  it('follows what the Mac reported', () => {
    expect(diskEncryptionState({ profile: 'absent', escrow: 'none' })).toBeUndefined();
    expect(diskEncryptionState({ profile: 'pending', escrow: 'none' })).toBe('enforcing');
    expect(diskEncryptionState({ profile: 'installed', fdeEnabled: false, escrow: 'none' })).toBe(
      'enforcing',
    );
    expect(
      diskEncryptionState({ profile: 'installed', fdeEnabled: true, keyReported: true, escrow: 'none' }),
    ).toBe('verifying');
    expect(
      diskEncryptionState({ profile: 'installed', fdeEnabled: true, keyReported: true, escrow: 'stored' }),
    ).toBe('verified');
    expect(
      diskEncryptionState({ profile: 'installed', fdeEnabled: true, keyReported: false, escrow: 'none' }),
    ).toBe('action-required');
    expect(
      diskEncryptionState({
        profile: 'installed',
        fdeEnabled: true,
        keyReported: true,
        escrow: 'undecryptable',
      }),
    ).toBe('failed');
    expect(diskEncryptionState({ profile: 'failed', escrow: 'none' })).toBe('failed');
    expect(diskEncryptionState({ profile: 'removing', fdeEnabled: true, escrow: 'stored' })).toBe(
      'removing-enforcement',
    );
  });
});
