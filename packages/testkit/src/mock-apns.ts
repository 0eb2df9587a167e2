export { APNS_REASON_STATUS } from './mock-apns/reasons';
export { startMockApns } from './mock-apns/server';
export type {
  MockApns,
  MockApnsBehavior,
  MockApnsOptions,
  MockApnsReply,
  MockApnsRequest,
  MockApnsStats,
} from './mock-apns/types';
export { createMockApnsCertificates, type MockApnsCertificates } from './mock-apns/certificates';
