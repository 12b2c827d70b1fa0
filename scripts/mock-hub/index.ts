export { startMockHub, type MockHub } from './start-mock-hub.ts'
export {
  parseFault,
  InvalidFaultError,
  type Fault,
  type MockHubKnobs,
  type MockHubOptions,
} from './options.ts'
export type { MockHubStats } from './stats.ts'
