// Request and response bodies of the admin API. The OpenAPI document is generated from these.
import { z } from 'zod';

/** Most enrollments one enqueue or push may name. */
export const MAX_TARGETS = 10_000;

export const EnrollmentIdSchema = z.string().min(1).max(255);

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'Error' });

const isoDate = z.iso.datetime({ offset: true });

export const EnqueueBodySchema = z
  .object({
    enrollmentIds: z.array(EnrollmentIdSchema).min(1).max(MAX_TARGETS),
    /** A typed command: validated against Apple's schema for its RequestType. */
    command: z
      .object({
        requestType: z.string().min(1).max(255),
        payload: z.record(z.string(), z.unknown()).optional(),
        commandUuid: z.string().min(1).max(255).optional(),
      })
      .strict()
      .optional(),
    /** A raw command: the command plist (XML), sent as is. */
    plist: z
      .string()
      .min(1)
      .max(4 * 1024 * 1024)
      .optional(),
    push: z.boolean().optional(),
    priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    notBefore: isoDate.optional(),
    expiresAt: isoDate.optional(),
  })
  .strict()
  .refine((b) => (b.command === undefined) !== (b.plist === undefined), {
    message: 'give exactly one of command and plist',
  })
  .meta({ id: 'EnqueueRequest' });

export const PushResultSchema = z
  .object({
    delivered: z.array(z.string()),
    failed: z.array(z.object({ id: z.string(), reason: z.string() })),
    /** The apns-id APNs answered for each delivered enrollment. */
    apnsIds: z.record(z.string(), z.string()).optional(),
  })
  .meta({ id: 'PushResult' });

export const EnqueueResponseSchema = z
  .object({
    commandUuid: z.string(),
    requestType: z.string(),
    enrollmentIds: z.array(z.string()),
    push: PushResultSchema.optional(),
  })
  .meta({ id: 'EnqueueResponse' });

export const PushBodySchema = z
  .object({ enrollmentIds: z.array(EnrollmentIdSchema).min(1).max(MAX_TARGETS) })
  .strict()
  .meta({ id: 'PushRequest' });

export const EnrollmentSchema = z
  .object({
    id: z.string(),
    channel: z.enum(['device', 'user']),
    deviceId: z.string(),
    serialNumber: z.string().optional(),
    userId: z.string().optional(),
    userShortName: z.string().optional(),
    userLongName: z.string().optional(),
    topic: z.string().optional(),
    hasPushToken: z.boolean(),
    enabled: z.boolean(),
    tokenUpdateTally: z.number().int(),
    lastSeenAt: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Enrollment' });

const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

export const EnrollmentListQuerySchema = z
  .object({
    enabled: booleanText.optional(),
    channel: z.enum(['device', 'user']).optional(),
    serialNumber: z.string().min(1).max(255).optional(),
    idPrefix: z.string().min(1).max(255).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    after: z.string().min(1).max(1024).optional(),
  })
  .strict();

export const EnrollmentPageSchema = z
  .object({ items: z.array(EnrollmentSchema), next: z.string().optional() })
  .meta({ id: 'EnrollmentPage' });

export const IdParamsSchema = z.object({ id: EnrollmentIdSchema });
export const UuidParamsSchema = z.object({ uuid: z.string().min(1).max(255) });

export const QueueEntrySchema = z
  .object({
    commandUuid: z.string(),
    requestType: z.string(),
    priority: z.number().int(),
    notBefore: z.string().optional(),
    expiresAt: z.string().optional(),
    lastStatus: z.literal('NotNow').optional(),
    notNowCount: z.number().int(),
    lastStatusAt: z.string().optional(),
  })
  .meta({ id: 'QueueEntry' });

export const QueueSchema = z
  .object({ enrollmentId: z.string(), items: z.array(QueueEntrySchema) })
  .meta({ id: 'Queue' });

export const ClearedSchema = z.object({ enrollmentId: z.string(), cleared: z.number().int() }).meta({
  id: 'QueueCleared',
});

export const ResultSchema = z
  .object({
    enrollmentId: z.string(),
    commandUuid: z.string(),
    requestType: z.string(),
    status: z.enum(['Acknowledged', 'Error', 'CommandFormatError']),
    receivedAt: z.string(),
    /** The report plist exactly as the device sent it, base64. */
    rawPayload: z.string(),
  })
  .meta({ id: 'CommandResult' });

export const ResultsSchema = z
  .object({ commandUuid: z.string(), results: z.array(ResultSchema) })
  .meta({ id: 'CommandResults' });

export const PushCertBodySchema = z
  .object({
    certificate: z
      .string()
      .min(1)
      .max(64 * 1024),
    privateKey: z
      .string()
      .min(1)
      .max(64 * 1024),
    /** Accept a certificate for another topic than the one in use (enrolled devices will not wake). */
    force: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'PushCertificateUpload' });

export const PushCertSchema = z
  .object({
    topic: z.string(),
    serialNumber: z.string(),
    subject: z.string(),
    notBefore: z.string(),
    notAfter: z.string(),
    renewBy: z.string(),
    fingerprintSha256: z.string(),
    updatedAt: z.string().optional(),
  })
  .meta({ id: 'PushCertificate' });

export const PushCertListSchema = z
  .object({ items: z.array(PushCertSchema) })
  .meta({ id: 'PushCertificates' });

export const OpenApiDocumentSchema = z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument' });
