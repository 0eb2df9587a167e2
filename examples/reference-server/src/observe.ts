import type { MdmEvent } from '@mdmkit/server';
import type { Logger } from './logger';
import { type Counter, type Histogram, MetricsRegistry } from './metrics';

/** The server's metrics, all in one registry. */
export interface ServerMetrics {
  registry: MetricsRegistry;
  requests: Counter;
  durations: Histogram;
  checkIns: Counter;
  commandResults: Counter;
  commandsDelivered: Counter;
  pushes: Counter;
  errors: Counter;
  profiles: Counter;
  jobRuns: Counter;
  webhooks: Counter;
}

/**
 * Creates the server's metrics.
 *
 * @example
 * ```ts
 * const metrics = createServerMetrics();
 * metrics.checkIns.inc({ type: 'Authenticate' });
 * ```
 */
export function createServerMetrics(): ServerMetrics {
  const registry = new MetricsRegistry();
  return {
    registry,
    requests: registry.counter('mdmkit_http_requests_total', 'HTTP requests answered, by route and status'),
    durations: registry.histogram(
      'mdmkit_http_request_duration_seconds',
      'Time to answer an HTTP request, by route',
    ),
    checkIns: registry.counter('mdmkit_checkins_total', 'Check-in messages accepted, by message type'),
    commandResults: registry.counter(
      'mdmkit_command_results_total',
      'Command reports stored, by status (Idle included)',
    ),
    commandsDelivered: registry.counter('mdmkit_commands_delivered_total', 'Commands handed out to devices'),
    pushes: registry.counter('mdmkit_pushes_total', 'APNs pushes, by outcome'),
    errors: registry.counter('mdmkit_errors_total', 'Refused device requests and internal errors, by kind'),
    profiles: registry.counter('mdmkit_enrollment_profiles_total', 'Enrollment profiles served'),
    jobRuns: registry.counter('mdmkit_job_runs_total', 'Background job runs, by job and outcome'),
    webhooks: registry.counter('mdmkit_webhook_deliveries_total', 'Webhook delivery attempts, by outcome'),
  };
}

const CHECKIN_TYPES: Partial<Record<MdmEvent['type'], string>> = {
  authenticate: 'Authenticate',
  'token-update': 'TokenUpdate',
  'user-authenticate': 'UserAuthenticate',
  'check-out': 'CheckOut',
  'bootstrap-token-set': 'SetBootstrapToken',
};

/**
 * Turns the MDM service's events into metrics and log lines (ids and types only, never payloads).
 *
 * @example
 * ```ts
 * const mdm = createMdmServer({ ...options, onEvent: observeMdmEvents(metrics, log) });
 * ```
 */
export function observeMdmEvents(metrics: ServerMetrics, log: Logger): (event: MdmEvent) => void {
  return (event) => {
    const checkIn = CHECKIN_TYPES[event.type];
    if (checkIn) metrics.checkIns.inc({ type: checkIn });
    switch (event.type) {
      case 'authenticate':
        log.info('device authenticated', { enrollmentId: event.enrollmentId });
        break;
      case 'token-update':
        if (event.first) log.info('device enrolled', { enrollmentId: event.enrollmentId });
        break;
      case 'check-out':
        log.info('device checked out', { enrollmentId: event.enrollmentId });
        break;
      case 'report':
        metrics.commandResults.inc({ status: event.status });
        if (event.nextCommandUuid) metrics.commandsDelivered.inc();
        if (event.status !== 'Idle') {
          log.info('command report', {
            enrollmentId: event.enrollmentId,
            commandUuid: event.commandUuid,
            requestType: event.requestType,
            status: event.status,
            issues: event.issues.length,
          });
        }
        break;
      case 'enrollment-profile':
        metrics.profiles.inc();
        break;
      case 'pushed':
        metrics.pushes.inc({ outcome: 'delivered' }, event.delivered);
        metrics.pushes.inc({ outcome: 'failed' }, event.failed);
        break;
      case 'rejected':
        metrics.errors.inc({ kind: event.error.code });
        log.warn('device request refused', { code: event.error.code, message: event.error.message });
        break;
      case 'error':
        metrics.errors.inc({ kind: 'INTERNAL' });
        log.error('device request failed', { error: event.error });
        break;
    }
  };
}
