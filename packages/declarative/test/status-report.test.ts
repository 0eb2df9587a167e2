import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STATUS_LIMITS,
  parseStatusReport,
  type StatusItemName,
  statusItemDefinitions,
} from '../src/index';
import { sampleOf } from './json-arbitrary';
import { caught } from './caught';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

/** Nests dotted status item names the way devices send them: `a.b.c` -> { a: { b: { c } } }. */
function nest(items: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(items)) {
    const parts = name.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      node[p] ??= {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  return root;
}

/** What a supervised Mac on macOS 14 sends after taking an enforcement declaration. */
const macReport = {
  StatusItems: {
    device: {
      identifier: { 'serial-number': 'C02XK0AAJG5H', udid: '0000FE00-5FB4D8A2B3E1C9D4' },
      model: { family: 'Mac', identifier: 'Mac14,2', 'marketing-name': 'MacBook Air', number: 'Z15S' },
      'operating-system': {
        family: 'macOS',
        version: '14.5',
        'build-version': '23F79',
        'marketing-name': 'macOS Sonoma',
      },
    },
    diskmanagement: { filevault: { enabled: true } },
    passcode: { 'is-compliant': true, 'is-present': true },
    softwareupdate: {
      'install-state': 'downloading',
      'install-reason': { reason: ['declaration'], 'declaration-id': 'os-update' },
      'pending-version': { 'build-version': '23G93', 'os-version': '14.6.1' },
      'failure-reason': { count: 1, reason: 'DownloadFailed', timestamp: '2026-12-04T08:15:00Z' },
    },
    management: {
      'client-capabilities': {
        'supported-versions': ['1.0.0'],
        'supported-features': {},
        'supported-payloads': {
          declarations: {
            activations: ['com.apple.activation.simple'],
            configurations: [
              'com.apple.configuration.softwareupdate.enforcement.specific',
              'com.apple.configuration.passcode.settings',
            ],
            assets: [],
            management: ['com.apple.management.organization-info'],
          },
          'status-items': ['softwareupdate.install-state', 'device.operating-system.version'],
        },
      },
      declarations: {
        activations: [{ identifier: 'all', 'server-token': 'a1', active: true, valid: 'valid' }],
        configurations: [
          {
            identifier: 'passcode',
            'server-token': 'b2',
            active: false,
            valid: 'invalid',
            reasons: [
              { code: 'Error.ConfigurationCannotBeApplied', description: 'x', details: { Error: 'y' } },
            ],
          },
        ],
        assets: [],
        management: [],
      },
    },
  },
  Errors: [],
  FullReport: true,
};

describe('parseStatusReport', () => {
  it('types a real-shaped report: software update, FileVault, passcode, capabilities, declarations', () => {
    const r = parseStatusReport(enc(macReport));
    expect(r.issues).toEqual([]);
    expect(r.fullReport).toBe(true);
    expect(r.items['softwareupdate.install-state']).toBe('downloading');
    expect(r.items['softwareupdate.failure-reason']).toEqual({
      count: 1,
      reason: 'DownloadFailed',
      timestamp: '2026-12-04T08:15:00Z',
    });
    expect(r.items['softwareupdate.pending-version']?.['os-version']).toBe('14.6.1');
    expect(r.items['diskmanagement.filevault.enabled']).toBe(true);
    expect(r.items['passcode.is-compliant']).toBe(true);
    expect(r.items['device.operating-system.version']).toBe('14.5');
    expect(
      r.items['management.client-capabilities']?.['supported-payloads'].declarations.configurations,
    ).toContain('com.apple.configuration.softwareupdate.enforcement.specific');
    const passcode = r.items['management.declarations']!.configurations[0]!;
    expect(passcode.valid).toBe('invalid');
    expect(passcode.reasons?.[0]?.code).toBe('Error.ConfigurationCannotBeApplied');
    expect(r.unknownItems).toEqual({});
  });

  it('every status item of the schema release parses from sample input after a JSON round trip', () => {
    const names = Object.keys(statusItemDefinitions) as StatusItemName[];
    expect(names).toHaveLength(44);
    for (const name of names) {
      let value = sampleOf(statusItemDefinitions[name].schema);
      // Removal markers are reported apart; keep the sample to live entries.
      if (Array.isArray(value)) value = value.map((e) => ({ ...(e as object), _removed: false }));
      const r = parseStatusReport(JSON.stringify({ StatusItems: nest({ [name]: value }), Errors: [] }));
      expect(r.issues, name).toEqual([]);
      expect(r.items[name], name).toEqual(value);
    }
  });

  it('keeps unknown items and unknown values, never fails on them', () => {
    const r = parseStatusReport(
      enc({
        StatusItems: {
          device: { power: { 'cycle-count': 312 } },
          telemetry: { thermal: { state: 'nominal' } },
          // `waiting` is in the schema's description but not its list of values.
          softwareupdate: { 'install-state': 'waiting' },
          management: {
            declarations: {
              activations: [],
              configurations: [
                { identifier: 'c', 'server-token': 't', active: true, valid: 'pending-review' },
              ],
              assets: [],
              management: [],
            },
          },
        },
        Errors: [],
      }),
    );
    expect(r.issues).toEqual([]);
    expect(r.items['softwareupdate.install-state']).toBe('waiting');
    expect(r.items['management.declarations']?.configurations[0]?.valid).toBe('pending-review');
    expect(r.unknownItems).toEqual({
      'device.power.cycle-count': 312,
      telemetry: { thermal: { state: 'nominal' } },
    });
  });

  it('keeps a value of the wrong type as sent and lists the issue with its key path', () => {
    const r = parseStatusReport(
      enc({
        StatusItems: {
          diskmanagement: { filevault: { enabled: 'yes' } },
          softwareupdate: { 'failure-reason': { reason: 'x' } },
          passcode: { 'is-compliant': false },
        },
        Errors: [],
      }),
    );
    expect(r.items['passcode.is-compliant']).toBe(false);
    expect(r.items['diskmanagement.filevault.enabled']).toBeUndefined();
    expect(r.nonConforming['diskmanagement.filevault.enabled']).toBe('yes');
    expect(r.nonConforming['softwareupdate.failure-reason']).toEqual({ reason: 'x' });
    expect(r.issues.map((i) => i.path)).toEqual([
      ['StatusItems', 'diskmanagement', 'filevault', 'enabled'],
      ['StatusItems', 'softwareupdate', 'failure-reason', 'count'],
    ]);
  });

  it('incremental array items: entries marked _removed are reported apart', () => {
    const r = parseStatusReport(
      enc({
        StatusItems: {
          account: {
            list: {
              mail: {
                incoming: [
                  { identifier: 'a1', 'visible-name': 'Work', hostname: 'imap.example.com' },
                  { identifier: 'a0', _removed: true },
                ],
              },
            },
          },
        },
        Errors: [],
      }),
    );
    expect(r.issues).toEqual([]);
    expect(r.items['account.list.mail.incoming']).toEqual([
      { identifier: 'a1', 'visible-name': 'Work', hostname: 'imap.example.com' },
    ]);
    expect(r.removed['account.list.mail.incoming']).toEqual([{ identifier: 'a0', _removed: true }]);
  });

  it('keeps the Errors entries, listing the ones that do not conform', () => {
    const r = parseStatusReport(
      enc({
        StatusItems: {},
        Errors: [
          {
            StatusItem: 'softwareupdate.install-state',
            Reasons: [{ Code: 'Error.Unknown', Details: { Domain: 'x' } }],
          },
          { Reasons: 'nope' },
        ],
      }),
    );
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.StatusItem).toBe('softwareupdate.install-state');
    // Kept as sent, apart: the typed list holds only entries that conform.
    expect(r.nonConformingErrors).toEqual([{ Reasons: 'nope' }]);
    expect(r.issues.map((i) => i.path.slice(0, 3))).toEqual([
      ['Errors', 1, 'StatusItem'],
      ['Errors', 1, 'Reasons'],
    ]);
  });

  it('attack: Errors entries of any JSON type never reach the typed errors list', () => {
    const junk = [null, 1, 'x', [], {}, { StatusItem: 5 }, { StatusItem: 'a', Reasons: [null] }];
    const r = parseStatusReport(
      enc({ StatusItems: {}, Errors: [...junk, { StatusItem: 'passcode.is-present' }] }),
    );
    // What a server does with the typed list must not throw on device input.
    expect(r.errors.map((e) => e.StatusItem.toUpperCase())).toEqual(['PASSCODE.IS-PRESENT']);
    expect(r.nonConformingErrors).toEqual(junk);
  });

  it('a report without StatusItems or with a bad FullReport is kept, with the issue listed', () => {
    const r = parseStatusReport('{"Errors":[],"FullReport":"yes"}');
    expect(r.fullReport).toBe(false);
    expect(r.issues).toEqual([
      { path: ['FullReport'], message: 'expected boolean' },
      { path: ['StatusItems'], message: 'missing' },
    ]);
  });

  it('attack: a __proto__ item cannot reach any prototype', () => {
    const body =
      '{"StatusItems":{"__proto__":{"polluted":1},"device":{"__proto__":{"polluted":2}}},"Errors":[]}';
    const r = parseStatusReport(body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(r.items)).toBe(Object.prototype);
    expect(Object.keys(r.unknownItems).sort()).toEqual(['__proto__', 'device.__proto__']);
    expect(Object.getOwnPropertyDescriptor(r.unknownItems, '__proto__')?.value).toEqual({ polluted: 1 });
  });

  it('attack: nesting deeper than maxDepth is refused before parsing, so every report can be stored as JSON', () => {
    const nested = (n: number) =>
      `{"StatusItems":{"device":{"model":${'['.repeat(n)}${']'.repeat(n)}}},"Errors":[]}`;
    // A report the server would store: JSON.stringify must not overflow the stack on it.
    for (const n of [50_000, 1_000_000]) {
      const started = performance.now();
      const e = caught(() => parseStatusReport(nested(n)));
      expect(e.code).toBe('LIMIT_EXCEEDED');
      expect(performance.now() - started).toBeLessThan(500);
    }
    const deepObject = `{"StatusItems":{"test":{"dictionary-value":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}}}`;
    expect(caught(() => parseStatusReport(deepObject)).code).toBe('LIMIT_EXCEEDED');
    // Brackets inside strings are text, not nesting.
    const family = `${'[{'.repeat(1000)}\\"[`;
    const text = JSON.stringify({ StatusItems: { device: { model: { family } } } });
    expect(parseStatusReport(text).items['device.model.family']).toBe(family);
    // Exactly at the limit is accepted and stays storable.
    const atLimit = nested(DEFAULT_STATUS_LIMITS.maxDepth - 3);
    const r = parseStatusReport(atLimit);
    expect(Array.isArray(r.unknownItems['device.model'])).toBe(true);
    expect(() => JSON.stringify(r)).not.toThrow();
    expect(caught(() => parseStatusReport(nested(DEFAULT_STATUS_LIMITS.maxDepth - 2))).code).toBe(
      'LIMIT_EXCEEDED',
    );
    expect(caught(() => parseStatusReport(nested(10), { maxDepth: 8 })).code).toBe('LIMIT_EXCEEDED');
  });

  it('attack: huge counts and oversized bodies are refused', () => {
    const many = {
      StatusItems: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x${i}`, i])),
      Errors: [],
    };
    expect(caught(() => parseStatusReport(enc(many), { maxItems: 10 })).code).toBe('LIMIT_EXCEEDED');
    expect(
      caught(() => parseStatusReport(enc({ StatusItems: {}, Errors: [1, 2, 3] }), { maxErrors: 2 })).code,
    ).toBe('LIMIT_EXCEEDED');
    expect(caught(() => parseStatusReport(new Uint8Array(65), { maxBytes: 64 })).code).toBe('LIMIT_EXCEEDED');
  });

  it('attack: 25,000 non-conforming entries in each of four arrays costs bounded time and a bounded list of issues', () => {
    const bad = Array.from({ length: 25_000 }, (_, i) => ({ identifier: i, name: 5 }));
    const declarations = { activations: bad, configurations: bad, assets: [], management: [] };
    const body = JSON.stringify({
      StatusItems: { app: { managed: { list: bad } }, management: { declarations } },
      Errors: bad.slice(0, DEFAULT_STATUS_LIMITS.maxErrors),
    });
    const started = performance.now();
    const r = parseStatusReport(body);
    const ms = performance.now() - started;
    expect(r.issues).toHaveLength(DEFAULT_STATUS_LIMITS.maxIssues);
    expect(r.issuesOmitted).toBeGreaterThan(30_000);
    // The first issues are the real ones, with their paths.
    expect(r.issues[0]!.path).toEqual(['StatusItems', 'app', 'managed', 'list', 0, 'identifier']);
    expect(r.nonConforming['app.managed.list']).toHaveLength(25_000);
    expect(r.nonConformingErrors).toHaveLength(DEFAULT_STATUS_LIMITS.maxErrors);
    // Before issues were capped this took 9 s and then overflowed the stack spreading 100,000 issues.
    expect(ms).toBeLessThan(1500);
  });

  it('bodies that are not a UTF-8 JSON object are INVALID_STATUS_REPORT with the cause', () => {
    for (const body of ['', '{', '[]', 'null', '"x"', '42']) {
      const e = caught(() => parseStatusReport(body));
      expect(e.code, body).toBe('INVALID_STATUS_REPORT');
    }
    const e = caught(() => parseStatusReport(new Uint8Array([0x7b, 0xff, 0x7d])));
    expect(e.code).toBe('INVALID_STATUS_REPORT');
    expect(e.cause).toBeDefined();
  });
});
