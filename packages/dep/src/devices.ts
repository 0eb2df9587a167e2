// From Apple's device JSON to what storage keeps. Lenient: odd dates or op_types never drop a device.
import type { DepDeviceInput, DepOpType } from '@mdmkit/storage';
import { type DepDevice, ORIGINAL_DEVICE_JSON } from './schemas';

function date(s: string | undefined): Date | undefined {
  if (s === undefined) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const OPS = new Set<string>(['added', 'modified', 'deleted']);

/** Keys this code maps to typed fields; a device with others (or odd values) is kept raw as well. */
const KNOWN = new Set([
  'serial_number',
  'model',
  'description',
  'color',
  'asset_tag',
  'os',
  'device_family',
  'profile_status',
  'profile_uuid',
  'profile_assign_time',
  'profile_push_time',
  'device_assigned_date',
  'device_assigned_by',
  'op_type',
  'op_date',
]);
const DATE_KEYS = ['op_date', 'profile_assign_time', 'profile_push_time', 'device_assigned_date'] as const;

/**
 * Converts one device of a fetch or sync page. A fetch lists devices without op_type (`added`);
 * an op_type newer than this code is stored as `modified`. The raw JSON is kept whenever the device
 * has keys or values the typed fields do not carry.
 */
export function toDeviceInput(d: DepDevice, phase: 'fetch' | 'sync'): DepDeviceInput {
  const op = d.op_type?.toLowerCase();
  const opType: DepOpType =
    phase === 'fetch' && !op ? 'added' : op && OPS.has(op) ? (op as DepOpType) : 'modified';
  const out: DepDeviceInput = { serialNumber: d.serial_number, opType };
  const set = <K extends keyof DepDeviceInput>(k: K, v: DepDeviceInput[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('opDate', date(d.op_date));
  set('model', d.model);
  set('description', d.description);
  set('color', d.color);
  set('os', d.os);
  set('deviceFamily', d.device_family);
  set('assetTag', d.asset_tag);
  set('profileStatus', d.profile_status);
  set('profileUuid', d.profile_uuid);
  set('profileAssignTime', date(d.profile_assign_time));
  set('profilePushTime', date(d.profile_push_time));
  set('deviceAssignedDate', date(d.device_assigned_date));
  set('deviceAssignedBy', d.device_assigned_by);
  // Lenient read, nothing lost: whatever the typed fields cannot carry is kept as Apple sent it.
  let lossy = op !== undefined && !OPS.has(op);
  for (const k of DATE_KEYS) if (d[k] !== undefined && date(d[k]) === undefined) lossy = true;
  if (!lossy) for (const k in d) if (!KNOWN.has(k)) lossy = true;
  // Storage replaces U+0000 (PostgreSQL text cannot hold it); the JSON keeps it, escaped.
  if (!lossy)
    for (const v of Object.values(d)) if (typeof v === 'string' && v.includes('\u0000')) lossy = true;
  const original = (d as { [ORIGINAL_DEVICE_JSON]?: string })[ORIGINAL_DEVICE_JSON];
  if (original !== undefined) out.raw = original;
  else if (lossy) out.raw = JSON.stringify(d);
  return out;
}
