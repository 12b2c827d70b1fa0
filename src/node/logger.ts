export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** Where log lines go: one string per line, newline included. */
export type LogSink = (line: string) => void

export interface LoggerOptions {
  /** Default: the process's stderr, which a detached daemon has redirected to `HFFS_HOME/daemon.log`. */
  sink?: LogSink
  /** Lines below this level are dropped; default 'debug' with HFFS_DEBUG=1, else 'info'. */
  level?: LogLevel
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

const stderrSink: LogSink = (line) => {
  process.stderr.write(line)
}

/** A logger for one component: `2025-01-02T03:04:05.678Z INFO  peer-book: dialled ...`. */
export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? stderrSink
  const min = RANK[options.level ?? (process.env.HFFS_DEBUG === '1' ? 'debug' : 'info')]
  const write = (level: LogLevel, message: string): void => {
    if (RANK[level] < min) return
    sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${component}: ${message}\n`)
  }
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  }
}

/** Makes a logger per component with shared options; the daemon hands one of these to every part. */
export type LoggerFactory = (component: string) => Logger

export function loggerFactory(options: LoggerOptions = {}): LoggerFactory {
  return (component) => createLogger(component, options)
}

/** The message of anything thrown, for a log line. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
