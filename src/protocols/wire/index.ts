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
export { PeerFloodingError, PeerRequestGuard } from './peer-request-guard.ts'
export type { PeerBanList, RequestLimits } from './peer-request-guard.ts'
