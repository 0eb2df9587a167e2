// Quick small-document timing used while tuning (not part of the published table).
import { buildBinary, buildXml, parseBinary, parseXml } from '@mdmkit/plist';
import * as plistPkg from 'plist';
import { deviceInformation, installedApplicationList, profileList, toJsonEquivalent } from './documents';

const doc = process.argv[3];
const v =
  doc === 'profiles' ? profileList() : doc === 'apps' ? installedApplicationList(1000) : deviceInformation();
const bin = buildBinary(v);
const xml = Buffer.from(buildXml(v));
const json = JSON.stringify(toJsonEquivalent(v));
const which = process.argv[2] ?? 'all';
function cpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
function pair(
  label: string,
  a: () => unknown,
  b: () => unknown,
  ratio: (x: number, y: number) => number,
): void {
  for (let i = 0; i < 3000 / (bin.length > 10000 ? 20 : 1); i++) {
    a();
    b();
  }
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < 15; r++) {
    for (const [fn, out] of [
      [a, ra],
      [b, rb],
    ] as const) {
      const t = cpu();
      for (let i = 0; i < 1000 / (bin.length > 10000 ? 20 : 1); i++) fn();
      out.push((cpu() - t) / 1000);
    }
  }
  const med = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1]!;
  const ratios = ra.map((x, i) => ratio(x, rb[i]!));
  console.log(
    `${label}: ours ${med(ra).toFixed(2)} us, other ${med(rb).toFixed(2)} us, median ratio ${med(ratios).toFixed(2)}`,
  );
}
if (which === 'all' || which === 'bp')
  pair(
    'bin parse (x plist)',
    () => parseBinary(bin),
    () => plistPkg.parseBinary(bin),
    (x, y) => y / x,
  );
if (which === 'all' || which === 'bb')
  pair(
    'bin build (x plist)',
    () => buildBinary(v),
    () => plistPkg.buildBinary(v as never),
    (x, y) => y / x,
  );
if (which === 'all' || which === 'xp')
  pair(
    'xml parse (/ JSON)',
    () => parseXml(xml),
    () => JSON.parse(json),
    (x, y) => x / y,
  );
