import { buildXmlBytes } from '@mdmkit/plist';
import { decodeCheckin } from '@mdmkit/protocol';
import { describe, expect, it } from 'vitest';
import {
  activationSimple,
  answerDeclarativeRequest,
  createDeclarationSet,
  declarationStates,
  DeclarativeError,
  declarationDefinitions,
  type DeclarationSet,
  type Declaration,
  managementOrganizationInformation,
  parseStatusReport,
  passcodeSettings,
  softwareUpdateEnforcementSpecific,
} from '../src/index';

const UDID = '0000FE00-5FB4D8A2B3E1C9D4';
const KINDS = ['Activations', 'Configurations', 'Assets', 'Management'] as const;
const PATH_KIND = {
  Activations: 'activation',
  Configurations: 'configuration',
  Assets: 'asset',
  Management: 'management',
};

/** The check-in plist a device sends for one DDM request, decoded the way a server decodes it. */
function checkin(endpoint: string, data?: unknown) {
  const dict: Record<string, unknown> = { MessageType: 'DeclarativeManagement', UDID, Endpoint: endpoint };
  if (data !== undefined) dict.Data = new TextEncoder().encode(JSON.stringify(data));
  const decoded = decodeCheckin(buildXmlBytes(dict as never));
  if (decoded.messageType !== 'DeclarativeManagement')
    throw new Error('not a DeclarativeManagement check-in');
  return decoded.message;
}

/**
 * A device's side of the conversation, as Apple describes it: fetch tokens; when the declarations
 * token differs from the last one, fetch declaration-items and then every declaration whose
 * ServerToken is new; drop those no longer listed; report status for what it holds.
 */
class ScriptedDevice {
  declarationsToken: string | undefined;
  held = new Map<string, Declaration>();
  fetched: string[] = [];

  sync(server: () => DeclarationSet): Record<string, unknown> | undefined {
    this.fetched = [];
    const tokens = this.call(server(), 'tokens') as {
      SyncTokens: { DeclarationsToken: string; Timestamp: string };
    };
    expect(tokens.SyncTokens.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    if (tokens.SyncTokens.DeclarationsToken === this.declarationsToken) return undefined;
    const items = this.call(server(), 'declaration-items') as {
      Declarations: Record<(typeof KINDS)[number], { Identifier: string; ServerToken: string }[]>;
      DeclarationsToken: string;
    };
    expect(items.DeclarationsToken).toBe(tokens.SyncTokens.DeclarationsToken);
    const listed = new Set<string>();
    for (const list of KINDS) {
      for (const item of items.Declarations[list]) {
        const key = `${PATH_KIND[list]}/${item.Identifier}`;
        listed.add(key);
        if (this.held.get(key)?.ServerToken === item.ServerToken) continue;
        const d = this.call(server(), `declaration/${key}`) as Declaration;
        expect(d.ServerToken).toBe(item.ServerToken);
        expect(d.Identifier).toBe(item.Identifier);
        this.held.set(key, d);
        this.fetched.push(key);
      }
    }
    for (const key of [...this.held.keys()]) if (!listed.has(key)) this.held.delete(key);
    this.declarationsToken = items.DeclarationsToken;
    return this.statusReport();
  }

  statusReport(): Record<string, unknown> {
    const lists: Record<string, unknown[]> = {
      activations: [],
      configurations: [],
      assets: [],
      management: [],
    };
    for (const [key, d] of this.held) {
      lists[`${key.split('/')[0]}s`.replace('managements', 'management')]!.push({
        identifier: d.Identifier,
        'server-token': d.ServerToken,
        active: true,
        valid: 'valid',
      });
    }
    return {
      StatusItems: {
        management: { declarations: lists },
        device: { 'operating-system': { version: '17.5.1' } },
      },
      Errors: [],
    };
  }

  call(set: DeclarationSet, endpoint: string): unknown {
    const answer = answerDeclarativeRequest(set, checkin(endpoint));
    expect(answer.status).toBe(200);
    return JSON.parse(new TextDecoder().decode(answer.body));
  }
}

function fleet(minimumLength: number, withOrg = true): DeclarationSet {
  const passcode = passcodeSettings({ MinimumLength: minimumLength }, { identifier: 'passcode' });
  const update = softwareUpdateEnforcementSpecific(
    { TargetOSVersion: '17.6', TargetLocalDateTime: '2026-12-15T18:00:00' },
    { identifier: 'os-update' },
  );
  const activation = activationSimple(
    { StandardConfigurations: ['passcode', 'os-update'] },
    { identifier: 'all' },
  );
  const org = managementOrganizationInformation({ Name: 'Example Org' }, { identifier: 'org' });
  return createDeclarationSet(
    withOrg ? [passcode, update, activation, org] : [passcode, update, activation],
    {
      timestamp: new Date('2026-12-01T09:00:00.250Z'),
    },
  );
}

describe('a scripted device conversation over DeclarativeManagement check-ins', () => {
  it('first sync fetches everything; the status report confirms every ServerToken', () => {
    const set = fleet(8);
    const device = new ScriptedDevice();
    const report = device.sync(() => set)!;
    expect(device.fetched.sort()).toEqual([
      'activation/all',
      'configuration/os-update',
      'configuration/passcode',
      'management/org',
    ]);
    const answer = answerDeclarativeRequest(set, checkin('status', report));
    expect(answer.endpoint).toBe('status');
    if (answer.endpoint !== 'status') return;
    expect(answer.body).toHaveLength(0);
    expect(answer.report.issues).toEqual([]);
    const declared = answer.report.items['management.declarations']!;
    const byId = new Map(
      [...declared.configurations, ...declared.activations, ...declared.management].map((d) => [
        d.identifier,
        d['server-token'],
      ]),
    );
    for (const d of set.declarations) expect(byId.get(d.Identifier)).toBe(d.ServerToken);
    expect(answer.report.items['device.operating-system.version']).toBe('17.5.1');
  });

  it('nothing changed: same tokens, nothing fetched', () => {
    const device = new ScriptedDevice();
    device.sync(() => fleet(8));
    // A new set with the same content (even built at another moment) gives the same DeclarationsToken.
    expect(device.sync(() => fleet(8))).toBeUndefined();
    expect(device.fetched).toEqual([]);
  });

  it('one changed declaration: only it is fetched again', () => {
    const device = new ScriptedDevice();
    device.sync(() => fleet(8));
    const before = device.declarationsToken;
    device.sync(() => fleet(10));
    expect(device.declarationsToken).not.toBe(before);
    expect(device.fetched).toEqual(['configuration/passcode']);
    expect(device.held.get('configuration/passcode')!.Payload).toEqual({ MinimumLength: 10 });
  });

  it('a removed declaration leaves the items list and its path answers 404', () => {
    const device = new ScriptedDevice();
    device.sync(() => fleet(8));
    const smaller = fleet(8, false);
    device.sync(() => smaller);
    expect(device.fetched).toEqual([]);
    expect([...device.held.keys()]).not.toContain('management/org');
    const gone = answerDeclarativeRequest(smaller, checkin('declaration/management/org'));
    expect(gone).toMatchObject({
      endpoint: 'declaration',
      status: 404,
      kind: 'management',
      identifier: 'org',
    });
    // The kind is part of the address: a configuration is not found under another kind.
    expect(answerDeclarativeRequest(smaller, checkin('declaration/asset/passcode')).status).toBe(404);
  });

  it('the order declarations are given in does not change the DeclarationsToken', () => {
    const a = fleet(8);
    const b = createDeclarationSet([...a.declarations].reverse());
    expect(b.declarationsToken).toBe(a.declarationsToken);
  });

  it('unknown endpoints and unreadable status bodies are typed errors that never echo the input', () => {
    const set = fleet(8);
    for (const endpoint of [
      '',
      'token',
      'declaration/profile/x',
      'declaration/configuration/',
      '../tokens',
      'x'.repeat(10_000),
    ]) {
      const e = (() => {
        try {
          answerDeclarativeRequest(set, { Endpoint: endpoint });
        } catch (err) {
          return err as DeclarativeError;
        }
      })();
      expect(e, endpoint.slice(0, 30)).toBeInstanceOf(DeclarativeError);
      expect(e!.code).toBe('UNKNOWN_ENDPOINT');
      if (endpoint.length > 3) expect(e!.message).not.toContain(endpoint);
    }
    expect(() => answerDeclarativeRequest(set, { Endpoint: 'status' })).toThrow(
      expect.objectContaining({ code: 'INVALID_STATUS_REPORT' }),
    );
    expect(() =>
      answerDeclarativeRequest(set, { Endpoint: 'status', Data: new TextEncoder().encode('{') }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_STATUS_REPORT' }));
  });
});

describe('declarationStates', () => {
  it('joins the set with what the device reports: current, stale, missing, extra, with reasons', () => {
    const set = fleet(8);
    const device = new ScriptedDevice();
    device.sync(() => set);
    const report = device.statusReport() as {
      StatusItems: { management: { declarations: Record<string, Record<string, unknown>[]> } };
    };
    const lists = report.StatusItems.management.declarations;
    // The device failed the passcode configuration, still holds an old OS update, dropped the org
    // declaration and keeps one the server no longer sends.
    const passcode = lists.configurations!.find((e) => e.identifier === 'passcode')!;
    Object.assign(passcode, {
      active: false,
      valid: 'invalid',
      reasons: [{ code: 'Error.ConfigurationCannotBeApplied', details: { Error: 'x' } }],
    });
    lists.configurations!.find((e) => e.identifier === 'os-update')!['server-token'] = 'old';
    lists.management = [];
    lists.assets!.push({ identifier: 'legacy-cert', 'server-token': 't', active: true, valid: 'valid' });
    const parsed = parseStatusReport(JSON.stringify(report));
    const states = declarationStates(set, parsed.items['management.declarations']!);
    const by = new Map(states.map((s) => [s.identifier, s]));
    expect(by.get('all')).toMatchObject({
      kind: 'activation',
      sync: 'current',
      active: true,
      valid: 'valid',
    });
    expect(by.get('passcode')).toMatchObject({ sync: 'current', active: false, valid: 'invalid' });
    expect(by.get('passcode')!.reasons[0]!.code).toBe('Error.ConfigurationCannotBeApplied');
    expect(by.get('os-update')!.sync).toBe('stale');
    expect(by.get('org')).toEqual({ kind: 'management', identifier: 'org', sync: 'missing', reasons: [] });
    expect(by.get('legacy-cert')).toMatchObject({ kind: 'asset', sync: 'extra' });
    expect(states).toHaveLength(5);
  });
});

describe('declaration sets refuse what a device could not use', () => {
  const passcode = passcodeSettings({ MinimumLength: 8 }, { identifier: 'passcode' });

  it('duplicate identifiers, even across kinds', () => {
    const dup = activationSimple({ StandardConfigurations: ['passcode'] }, { identifier: 'passcode' });
    expect(() => createDeclarationSet([passcode, dup])).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_IDENTIFIER', keyPath: [1, 'Identifier'] }),
    );
  });

  it('an activation naming a configuration the set lacks', () => {
    const act = activationSimple({ StandardConfigurations: ['passcode', 'missing'] }, { identifier: 'a' });
    expect(() => createDeclarationSet([passcode, act])).toThrow(
      expect.objectContaining({
        code: 'MISSING_REFERENCE',
        keyPath: [1, 'Payload', 'StandardConfigurations', 1],
      }),
    );
  });

  it('a configuration naming an asset the set lacks, or an asset of a type that does not fit there', () => {
    const certificate = declarationDefinitions['com.apple.asset.credential.certificate'].build(
      { Reference: { DataURL: 'https://example.com/ca.der' } },
      { identifier: 'ca' },
    );
    const userpass = declarationDefinitions['com.apple.asset.credential.userpassword'].build(
      { Reference: { DataURL: 'https://example.com/cred.json' } },
      { identifier: 'cred' },
    );
    const ldap = (ref: string) =>
      declarationDefinitions['com.apple.configuration.account.ldap'].build(
        { HostName: 'ldap.example.com', AuthenticationCredentialsAssetReference: ref } as never,
        { identifier: 'ldap' },
      );
    expect(createDeclarationSet([userpass, ldap('cred')]).declarations).toHaveLength(2);
    expect(() => createDeclarationSet([userpass, ldap('missing')])).toThrow(
      expect.objectContaining({
        code: 'MISSING_REFERENCE',
        keyPath: [1, 'Payload', 'AuthenticationCredentialsAssetReference'],
      }),
    );
    expect(() => createDeclarationSet([certificate, ldap('ca')])).toThrow(
      expect.objectContaining({
        code: 'MISSING_REFERENCE',
        keyPath: [1, 'Payload', 'AuthenticationCredentialsAssetReference'],
      }),
    );
    // References inside arrays are followed too.
    const data = declarationDefinitions['com.apple.asset.data'].build(
      { Reference: { DataURL: 'https://example.com/x', ContentType: 'application/plist' } },
      { identifier: 'plist' },
    );
    const tasks = (ref: string) =>
      declarationDefinitions['com.apple.configuration.services.background-tasks'].build(
        {
          TaskType: 'com.example.task',
          LaunchdConfigurations: [{ FileAssetReference: ref, Context: 'daemon' }],
        },
        { identifier: 'tasks' },
      );
    expect(createDeclarationSet([data, tasks('plist')]).declarations).toHaveLength(2);
    expect(() => createDeclarationSet([data, tasks('nope')])).toThrow(
      expect.objectContaining({ keyPath: [1, 'Payload', 'LaunchdConfigurations', 0, 'FileAssetReference'] }),
    );
  });

  it('a declaration changed after it was built (its ServerToken no longer matches)', () => {
    const forged = { ...passcode, Payload: { MinimumLength: 4 } };
    expect(() => createDeclarationSet([forged])).toThrow(
      expect.objectContaining({ code: 'INVALID_DECLARATION', keyPath: [0, 'ServerToken'] }),
    );
  });

  it('parts without a token get one; known types are checked against their schema', () => {
    const set = createDeclarationSet([
      { Type: 'com.apple.configuration.passcode.settings', Identifier: 'p', Payload: { MinimumLength: 6 } },
      { Type: 'com.apple.configuration.future.thing', Identifier: 'f', Payload: { Anything: [1] } },
    ]);
    expect(set.get('configuration', 'p')!.ServerToken).toMatch(/^[0-9a-f]{64}$/);
    expect(set.get('configuration', 'f')).toBeDefined();
    expect(() =>
      createDeclarationSet([
        {
          Type: 'com.apple.configuration.passcode.settings',
          Identifier: 'p',
          Payload: { MinimumLength: '6' },
        },
      ]),
    ).toThrow(
      expect.objectContaining({ code: 'INVALID_DECLARATION', keyPath: [0, 'Payload', 'MinimumLength'] }),
    );
    expect(() => createDeclarationSet([{ Type: 'org.example.thing', Identifier: 'x', Payload: {} }])).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_DECLARATION_TYPE' }),
    );
  });

  it('documents conform to the generated protocol schemas', async () => {
    const { DeclarationItemsResponseSchema, TokensResponseSchema } = await import('../src/index');
    const set = fleet(8);
    expect(TokensResponseSchema.safeParse(set.tokens()).success).toBe(true);
    expect(DeclarationItemsResponseSchema.safeParse(set.declarationItems()).success).toBe(true);
    expect(set.tokens().SyncTokens.Timestamp).toBe('2026-12-01T09:00:00Z');
  });

  it('a timestamp RFC 3339 cannot write (years outside 0000-9999) is refused, never sent', () => {
    for (const timestamp of [new Date('+010000-01-01T00:00:00Z'), new Date('-000001-01-01T00:00:00Z')]) {
      expect(() => createDeclarationSet([], { timestamp })).toThrow(
        expect.objectContaining({ code: 'INVALID_DECLARATION' }),
      );
    }
    expect(
      createDeclarationSet([], { timestamp: new Date('9999-12-31T23:59:59Z') }).tokens().SyncTokens.Timestamp,
    ).toBe('9999-12-31T23:59:59Z');
  });
});
