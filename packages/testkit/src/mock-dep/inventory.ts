// The mock DEP service's state: devices, the change log that sync reads, cursors and profiles.
import { randomBytes } from 'node:crypto';

/** A device as the mock keeps it (the DEP API's Device fields). */
export interface MockDepDevice {
  serial_number: string;
  model: string;
  description: string;
  color: string;
  os: string;
  device_family: string;
  asset_tag?: string;
  profile_status: 'empty' | 'assigned' | 'pushed' | 'removed';
  profile_uuid?: string;
  profile_assign_time?: string;
  profile_push_time?: string;
  device_assigned_date: string;
  device_assigned_by: string;
}

/** One entry of the change log returned by sync. */
export interface MockDepChange {
  op_type: 'added' | 'modified' | 'deleted';
  op_date: string;
  device: MockDepDevice;
}

/** What a cursor points at. */
export type MockDepCursor =
  | { kind: 'fetch'; position: number; syncFrom: number; issuedAt: number; done: boolean }
  | { kind: 'sync'; position: number; issuedAt: number };

const FAMILIES: readonly [string, string, string][] = [
  ['Mac', 'OSX', 'MacBook Pro 14"'],
  ['iPhone', 'iOS', 'iPhone 15'],
  ['iPad', 'iOS', 'iPad Air'],
  ['AppleTV', 'tvOS', 'Apple TV 4K'],
];

/** A deterministic serial number for seeded device `i`. */
export function seededSerial(i: number): string {
  return `MOCK${i.toString(36).toUpperCase().padStart(8, '0')}`;
}

/** Devices, changes, cursors and profiles of one mock MDM server. */
export class MockDepInventory {
  readonly devices = new Map<string, MockDepDevice>();
  /** Serial numbers in the order fetch walks them (deleted ones are skipped when read). */
  readonly order: string[] = [];
  readonly changes: MockDepChange[] = [];
  readonly cursors = new Map<string, MockDepCursor>();
  readonly profiles = new Map<string, Record<string, unknown>>();
  constructor(private readonly now: () => number) {}

  /** Makes a device record with defaults for every field not given. */
  makeDevice(serial: string, fields: Partial<MockDepDevice> = {}, i = 0): MockDepDevice {
    const [family, os, model] = FAMILIES[i % FAMILIES.length]!;
    return {
      serial_number: serial,
      model,
      description: `${model} (mock)`,
      color: 'SPACE GRAY',
      os,
      device_family: family,
      profile_status: 'empty',
      device_assigned_date: new Date(this.now()).toISOString(),
      device_assigned_by: 'admin@example.com',
      ...fields,
    };
  }

  /** Adds `count` generated devices without change-log entries (the state before the first fetch). */
  seed(count: number, start = this.order.length): void {
    for (let i = start; i < start + count; i++) {
      const d = this.makeDevice(seededSerial(i), {}, i);
      this.devices.set(d.serial_number, d);
      this.order.push(d.serial_number);
    }
  }

  add(device: MockDepDevice): void {
    const known = this.devices.has(device.serial_number);
    this.devices.set(device.serial_number, device);
    if (!known) this.order.push(device.serial_number);
    this.#log(known ? 'modified' : 'added', device);
  }

  modify(serial: string, fields: Partial<MockDepDevice>): MockDepDevice | undefined {
    const d = this.devices.get(serial);
    if (!d) return undefined;
    Object.assign(d, fields, { serial_number: serial });
    this.#log('modified', d);
    return d;
  }

  /** Takes the device's profile away (`profile_status: removed`), recorded as `modified`. */
  clearProfile(serial: string): void {
    const d = this.devices.get(serial);
    if (!d) return;
    delete d.profile_uuid;
    delete d.profile_assign_time;
    d.profile_status = 'removed';
    this.#log('modified', d);
  }

  remove(serial: string): boolean {
    const d = this.devices.get(serial);
    if (!d) return false;
    this.devices.delete(serial);
    this.#log('deleted', d);
    return true;
  }

  #log(op_type: MockDepChange['op_type'], device: MockDepDevice): void {
    this.changes.push({ op_type, op_date: new Date(this.now()).toISOString(), device: { ...device } });
  }

  newCursor(c: MockDepCursor): string {
    const id = randomBytes(18).toString('base64url');
    this.cursors.set(id, c);
    return id;
  }

  newProfileUuid(): string {
    return randomBytes(16).toString('hex').toUpperCase();
  }
}
