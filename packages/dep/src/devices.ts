// From Apple's device JSON to what storage keeps. Lenient: odd dates or op_types never drop a device.
import type { DepDeviceInput, DepOpType } from '@mdmkit/storage';
import type { DepDevice } from './schemas';

function date(s: string | undefined): Date | undefined {
  if (s === undefined) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const OPS = new Set<string>(['added', 'modified', 'deleted']);

/**
 * Converts one device of a fetch or sync page. A fetch lists devices without op_type (`added`);
 * an op_type newer than this code is stored as `modified`, with the raw JSON kept.
 */
export function toDeviceInput(d: DepDevice, phase: 'fetch' | 'sync'): DepDeviceInput {
  const op = d.op_type?.toLowerCase();
  const opType: DepOpType =
    phase === 'fetch' && !op ? 'added' : op && OPS.has(op) ? (op as DepOpType) : 'modified';
  const out: DepDeviceInput = { serialNumber: d.serial_number, opType, raw: JSON.stringify(d) };
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
  return out;
}
