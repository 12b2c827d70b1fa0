import type { Logger } from './logger.ts'

/**
 * SIGINT and SIGTERM abort `shutdown` (a graceful stop); a second one exits at once. Returns the function
 * that removes the handlers.
 */
export function onShutdownSignals(shutdown: AbortController, log: Logger): () => void {
  let received = 0
  const handler = (signal: NodeJS.Signals): void => {
    received++
    if (received === 1) {
      log.info(`${signal}: stopping (send it again to force)`)
      shutdown.abort(new Error(signal))
      return
    }
    log.warn(`${signal} again: exiting now`)
    process.exit(1)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
