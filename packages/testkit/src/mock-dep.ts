export { startMockDep } from './mock-dep/server';
export type { MockDep, MockDepFault, MockDepOptions, MockDepRequestRecord } from './mock-dep/types';
export {
  type MockDepChange,
  type MockDepCursor,
  type MockDepDevice,
  MockDepInventory,
  seededSerial,
} from './mock-dep/inventory';
