import type { Logger } from './logger.ts'

/**
 * A signal this soon after the first is the same one, delivered twice: to the process group (Ctrl-C, or
 * systemd stopping the unit) and forwarded by bin/hffs-node.js, which runs the daemon as its child.
 */
const SAME_SIGNAL_MS = 500

/**
 * SIGINT and SIGTERM abort `shutdown` (a graceful stop); a second one (after SAME_SIGNAL_MS) exits at once.
 * Returns the function that removes the handlers.
 */
export function onShutdownSignals(shutdown: AbortController, log: Logger): () => void {
  let firstAt: number | null = null
  const handler = (signal: NodeJS.Signals): void => {
    if (firstAt === null) {
      firstAt = performance.now()
      log.info(`${signal}: stopping (send it again to force)`)
      shutdown.abort(new Error(signal))
      return
    }
    if (performance.now() - firstAt < SAME_SIGNAL_MS) return
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
