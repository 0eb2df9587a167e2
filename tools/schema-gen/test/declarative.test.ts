import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DECLARATIVE_DIR, generateDeclarative } from '../src/declarative';
import { readRelease } from '../src/generate';
import { schemasDir } from '../src/paths';

const dir = schemasDir();

function yamlFiles(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const p = join(root, name);
    return statSync(p).isDirectory() ? yamlFiles(p) : name.endsWith('.yaml') ? [p] : [];
  });
}

describe.skipIf(!dir)('declarative generator', () => {
  const out = () => generateDeclarative(dir!, readRelease(dir!));

  it('writes one file per declaration and one each for status items, protocol, credentials, reasons', () => {
    const files = [...out().keys()];
    const declarations = files.filter((p) => p.startsWith(`${DECLARATIVE_DIR}/declarations/`));
    const schemas = yamlFiles(join(dir!, 'declarative/declarations')).filter(
      (p) => !p.includes('/credentials/') && !p.endsWith('declarationbase.yaml'),
    );
    expect(declarations).toHaveLength(schemas.length);
    for (const name of ['status-items', 'protocol', 'credentials', 'reasons', 'registry', 'index']) {
      expect(files).toContain(`${DECLARATIVE_DIR}/${name}.ts`);
    }
  });

  it('covers every status item of the schemas', () => {
    const items = yamlFiles(join(dir!, 'declarative/status'))
      .map((p) => parse(readFileSync(p, 'utf8')).payload.statusitemtype as string | undefined)
      .filter((t): t is string => t !== undefined);
    const code = out().get(`${DECLARATIVE_DIR}/status-items.ts`)!;
    for (const item of items) expect(code).toContain(`  '${item}': {\n    name: '${item}',`);
  });

  it('<data> is base64 text in JSON: checked in what we build, any string in what devices send', () => {
    const all = out();
    expect(all.get(`${DECLARATIVE_DIR}/credentials.ts`)).toContain('Identity: base64Data,');
    const status = all.get(`${DECLARATIVE_DIR}/status-items.ts`)!;
    expect(status).not.toContain('plistData');
    expect(status).not.toContain('Uint8Array');
  });

  it('fills in the keys of SyncTokens that the schema names only by type', () => {
    const protocol = out().get(`${DECLARATIVE_DIR}/protocol.ts`)!;
    expect(protocol).toContain('DeclarationsToken: z.string(),');
    expect(protocol).toContain('Timestamp: z.string(),');
  });

  it('device-sent values are lenient (open enums), what we build is closed', () => {
    const all = out();
    expect(all.get(`${DECLARATIVE_DIR}/status-items.ts`)).toContain(
      "z.union([z.enum(['none', 'downloading', 'prepared', 'installing', 'failed']), z.string()])",
    );
    expect(all.get(`${DECLARATIVE_DIR}/declarations/asset-data.ts`)).toContain(
      "Type: z.enum(['MDM', 'None']),",
    );
  });

  it('records where payloads name assets, through dictionaries and array items', () => {
    const tasks = out().get(`${DECLARATIVE_DIR}/declarations/configuration-services-background-tasks.ts`)!;
    expect(tasks).toContain("path: ['LaunchdConfigurations', '*', 'FileAssetReference'],");
    const mail = out().get(`${DECLARATIVE_DIR}/declarations/configuration-account-mail.ts`)!;
    expect(mail).toContain("path: ['IncomingServer', 'AuthenticationCredentialsAssetReference'],");
    expect(mail).toContain("types: ['com.apple.asset.credential.userpassword'],");
  });
});
