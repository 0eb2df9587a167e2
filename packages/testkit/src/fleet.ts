export { Fleet, type FleetOptions, type PhaseOptions, type RoundTripOptions } from './fleet/fleet';
export { LatencyRecorder, type LatencySummary } from './fleet/latency';
export { pace, type PaceOptions } from './fleet/pace';
export { type ProgressStream, showProgress } from './fleet/progress';
export {
  runScenario,
  SCENARIOS,
  type ScenarioName,
  type ScenarioOptions,
  type ScenarioSummary,
} from './fleet/scenario';
export {
  type FleetOperation,
  FleetStats,
  type FleetStatsSummary,
  type OperationSummary,
} from './fleet/stats';
