// Typed DEP API bodies. Responses are read leniently (unknown keys kept), but the keys the client
// relies on must be there with the right type; requests we build are checked before sending.
import { z } from 'zod';

const optString = z.string().optional();

const deviceStringFields = {
  model: optString,
  description: optString,
  color: optString,
  asset_tag: optString,
  os: optString,
  device_family: optString,
  profile_status: optString,
  profile_uuid: optString,
  profile_assign_time: optString,
  profile_push_time: optString,
  device_assigned_date: optString,
  device_assigned_by: optString,
  /** Sync only: `added`, `modified` or `deleted`. */
  op_type: optString,
  op_date: optString,
};
const DEVICE_STRING_KEYS = Object.keys(deviceStringFields);
const typedDevice = z.looseObject({ serial_number: z.string().min(1).max(64), ...deviceStringFields });

/** One device as the fetch, sync and details endpoints describe it. */
export type DepDevice = z.infer<typeof typedDevice>;

/** Where a device whose fields had unexpected types keeps Apple's original JSON (not enumerable). */
export const ORIGINAL_DEVICE_JSON: unique symbol = Symbol('mdmkit.dep.originalDevice');

/**
 * Reads a device leniently: an optional field of an unexpected type (null, a number) is left out of
 * the typed view and the device's original JSON rides along under {@link ORIGINAL_DEVICE_JSON}, so
 * one odd device neither fails its page (which would stall the sync at that cursor) nor loses data.
 * Only a missing or unusable serial number fails.
 */
function lenientDevice<T extends z.ZodType<DepDevice>>(typed: T) {
  return z.unknown().transform((value, ctx): z.output<T> => {
    let input = value;
    let original: string | undefined;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      const odd = DEVICE_STRING_KEYS.filter((k) => o[k] !== undefined && typeof o[k] !== 'string');
      if (odd.length > 0) {
        const copy = { ...o };
        for (const k of odd) delete copy[k];
        input = copy;
        original = JSON.stringify(o);
      }
    }
    const r = typed.safeParse(input);
    if (!r.success) {
      for (const issue of r.error.issues) ctx.addIssue({ ...issue, code: 'custom' });
      return z.NEVER;
    }
    if (original !== undefined) Object.defineProperty(r.data, ORIGINAL_DEVICE_JSON, { value: original });
    return r.data;
  });
}

export const depDeviceSchema = lenientDevice(typedDevice);

/**
 * A cursor is sent back verbatim, so it cannot be repaired like a device string: one holding U+0000
 * (which PostgreSQL text cannot store) or a lone surrogate (which no UTF-8 driver can send, so a SQL
 * store would keep U+FFFD instead) is refused the same way on every store.
 */
const cursorSchema = z
  .string()
  .min(1)
  .refine((c) => !c.includes('\u0000'), 'cursor holds U+0000')
  .refine((c) => Buffer.from(c, 'utf8').toString('utf8') === c, 'cursor holds a lone surrogate');

export const deviceListResponseSchema = z.looseObject({
  cursor: cursorSchema,
  more_to_follow: z.boolean(),
  fetched_until: optString,
  devices: z.array(depDeviceSchema).default([]),
});
/** Answer of fetch (`/server/devices`) and sync (`/devices/sync`). */
export type DeviceListResponse = z.infer<typeof deviceListResponseSchema>;

export const sessionResponseSchema = z.looseObject({ auth_session_token: z.string().min(1) });

export const accountSchema = z.looseObject({
  server_name: z.string(),
  server_uuid: z.string(),
  admin_id: optString,
  facilitator_id: optString,
  org_name: z.string(),
  org_email: optString,
  org_phone: optString,
  org_address: optString,
  org_id: optString,
  org_id_hash: optString,
  org_type: optString,
  org_version: optString,
  urls: z
    .array(
      z.looseObject({
        uri: z.string(),
        http_method: z.array(z.string()),
        limit: z.looseObject({ default: z.number(), maximum: z.number() }).optional(),
      }),
    )
    .optional(),
});
/** Answer of `GET /account`. */
export type DepAccount = z.infer<typeof accountSchema>;

/** Per-device outcome strings (`SUCCESS`, `NOT_ACCESSIBLE`, `FAILED`, …), kept as Apple sends them. */
export const deviceStatusMapSchema = z.record(z.string(), z.string());

export const deviceDetailsResponseSchema = z.looseObject({
  devices: z.record(z.string(), lenientDevice(typedDevice.extend({ response_status: optString }))),
});
export type DeviceDetailsResponse = z.infer<typeof deviceDetailsResponseSchema>;

export const disownResponseSchema = z.looseObject({ devices: deviceStatusMapSchema });
export type DisownResponse = z.infer<typeof disownResponseSchema>;

/** An enrollment profile as sent to `POST /profile` (known keys typed; newer keys pass through). */
export const enrollmentProfileSchema = z.looseObject({
  profile_name: z.string().min(1).max(255),
  url: z.url({ protocol: /^https?$/ }),
  allow_pairing: z.boolean().optional(),
  is_supervised: z.boolean().optional(),
  is_multi_user: z.boolean().optional(),
  is_mandatory: z.boolean().optional(),
  await_device_configured: z.boolean().optional(),
  is_mdm_removable: z.boolean().optional(),
  auto_advance_setup: z.boolean().optional(),
  support_phone_number: optString,
  support_email_address: optString,
  org_magic: optString,
  anchor_certs: z.array(z.string()).optional(),
  supervising_host_certs: z.array(z.string()).optional(),
  skip_setup_items: z.array(z.string()).optional(),
  department: optString,
  language: optString,
  region: optString,
  configuration_web_url: optString,
  devices: z.array(z.string().min(1)).max(1000).optional(),
});
export type EnrollmentProfile = z.infer<typeof enrollmentProfileSchema>;

export const defineProfileResponseSchema = z.looseObject({
  profile_uuid: z.string().min(1),
  devices: deviceStatusMapSchema.default({}),
});
export type DefineProfileResponse = z.infer<typeof defineProfileResponseSchema>;

export const profileResponseSchema = enrollmentProfileSchema.extend({ profile_uuid: optString });

export const assignProfileResponseSchema = z.looseObject({
  profile_uuid: z.string().min(1),
  devices: deviceStatusMapSchema,
});
export type AssignProfileResponse = z.infer<typeof assignProfileResponseSchema>;

export const removeProfileResponseSchema = z.looseObject({ devices: deviceStatusMapSchema });
export type RemoveProfileResponse = z.infer<typeof removeProfileResponseSchema>;

export const activationLockRequestSchema = z.strictObject({
  device: z.string().min(1),
  escrow_key: z.string().optional(),
  lost_message: z.string().optional(),
});
export type ActivationLockRequest = z.infer<typeof activationLockRequestSchema>;

export const activationLockResponseSchema = z.looseObject({
  serial_number: z.string(),
  response_status: z.string(),
});
export type ActivationLockResponse = z.infer<typeof activationLockResponseSchema>;

export const accountDrivenProfileSchema = z.looseObject({ mdm_service_discovery_url: z.url() });
export type AccountDrivenProfile = z.infer<typeof accountDrivenProfileSchema>;

export const betaTokensResponseSchema = z.looseObject({
  betaEnrollmentTokens: z
    .array(z.looseObject({ title: optString, os: optString, token: optString }))
    .default([]),
});
export type BetaEnrollmentTokens = z.infer<typeof betaTokensResponseSchema>;
