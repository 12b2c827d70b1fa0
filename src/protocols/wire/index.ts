export {
  BusyError,
  MessageTooLargeError,
  NotFoundError,
  ProtocolError,
  StreamEndedError,
  TimeoutError,
} from './errors.ts'
export { MESSAGE_TIMEOUT, RUN_ON_LIMITED_CONNECTION } from './constants.ts'
export type { ProtocolComponents, StreamLimitsInit } from './components.ts'
