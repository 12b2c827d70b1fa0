import { spawn } from 'node:child_process'
import { mkdir, open, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { START_TIMEOUT_MS } from './constants.ts'
import { ControlClient } from './control-client.ts'
import type { DaemonStatus } from './daemon-status.ts'
import { readDaemonInfo } from './daemon-info.ts'
import { daemonLogPath } from './home.ts'

// src/node/ in the sources, dist/src/node/ in the build.
const BIN = fileURLToPath(
  new URL(`${import.meta.url.endsWith('.js') ? '../' : ''}../../bin/hffs-node.js`, import.meta.url),
)

export class DaemonStartError extends Error {
  override name = 'DaemonStartError'
}

export interface SpawnDaemonParams {
  home: string
  /** Flags for `hffs-node start --foreground` (port, listen, ...). */
  args: readonly string[]
  env?: NodeJS.ProcessEnv
  /** How long to wait for the control API to answer; default START_TIMEOUT_MS (30 s). */
  timeoutMs?: number
}

/**
 * V8 flags the daemon runs with; bin/hffs-node.js adds the same to a `start --foreground` started without
 * them, and says why (an old generation allowed to double, a 2 MiB young generation: far fewer full
 * collections in a daemon serving chunks; no memory reducer: an idle daemon keeps the heap it serves with).
 */
export const DAEMON_NODE_FLAGS = [
  '--max-semi-space-size=2',
  '--heap-growing-percent=100',
  '--no-memory-reducer',
]

/**
 * Starts `hffs-node start --foreground` detached, output appended to `HFFS_HOME/daemon.log`, and waits
 * until its control API answers. If it dies first, the error carries the last line it logged.
 */
export async function spawnDaemon(params: SpawnDaemonParams): Promise<DaemonStatus> {
  const { home } = params
  await mkdir(home, { recursive: true })
  const logPath = daemonLogPath(home)
  const log = await open(logPath, 'a', 0o600)
  let exited: { code: number | null; signal: string | null } | null = null
  let spawnError: Error | null = null
  const child = spawn(
    process.execPath,
    [...DAEMON_NODE_FLAGS, BIN, 'start', '--foreground', ...params.args],
    {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: params.env ?? process.env,
    },
  )
  child.on('exit', (code, signal) => {
    exited = { code, signal }
  })
  child.on('error', (err) => {
    spawnError = err
  })
  await log.close()
  const deadline = Date.now() + (params.timeoutMs ?? START_TIMEOUT_MS)
  try {
    while (Date.now() < deadline) {
      if (spawnError !== null)
        throw new DaemonStartError(`cannot start the daemon: ${(spawnError as Error).message}`)
      if (exited !== null) {
        const { code, signal } = exited
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`
        throw new DaemonStartError(`the daemon ${how}: ${await lastLogLine(logPath)}`)
      }
      const info = await readDaemonInfo(home)
      if (info !== null && info.pid === child.pid) {
        try {
          return await (await ControlClient.connect(home)).status()
        } catch {
          // not answering yet
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    child.kill('SIGTERM')
    throw new DaemonStartError(
      `the daemon did not answer within ${(params.timeoutMs ?? START_TIMEOUT_MS) / 1000} s; see ${logPath}`,
    )
  } finally {
    child.unref()
  }
}

/** The last non-empty line of the log, without the CLI's `hffs-node: ` prefix. */
async function lastLogLine(path: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8')
    const lines = text
      .slice(-64 * 1024)
      .split('\n')
      .filter((l) => l.trim() !== '')
    return (lines.at(-1) ?? '(nothing logged)').replace(/^hffs-node: /, '')
  } catch {
    return '(no log)'
  }
}
