export {
  type DeviceHttpResult,
  type HandledCommand,
  VirtualDevice,
  type VirtualDeviceOptions,
} from './virtual-device/device';
export { type EnrollmentProfileFacts, readEnrollmentProfile } from './virtual-device/enrollment-profile';
export { DEVICE_MODELS, type DeviceModel, type DevicePlatform } from './virtual-device/models';
export {
  answerCommand,
  type CommandAnswer,
  type DeviceState,
  errorAnswer,
  type InstalledProfile,
} from './virtual-device/responses';
