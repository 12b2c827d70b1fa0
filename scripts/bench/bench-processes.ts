import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { BenchDaemon } from './bench-daemon.ts'
import { killLineChildren, type LineChild } from './line-child.ts'
import type { MockHubProcess } from './mock-hub-process.ts'
import { killRunningChildren } from './timed-child.ts'

/** What a benchmark starts: every child is killed when the benchmark's process exits, however it ends. */
export interface BenchProcesses {
  /** Aborted by the first Ctrl-C; a second one exits at once. */
  readonly signal: AbortSignal
  readonly daemons: Set<BenchDaemon>
  readonly helpers: LineChild[]
  hub: MockHubProcess | null
}

export function benchProcesses(): BenchProcesses {
  const shutdown = new AbortController()
  const procs: BenchProcesses = { signal: shutdown.signal, daemons: new Set(), helpers: [], hub: null }
  process.on('exit', () => {
    killRunningChildren()
    killLineChildren()
    for (const d of procs.daemons) d.killNow()
    procs.hub?.killNow()
  })
  process.on('SIGINT', () => {
    if (shutdown.signal.aborted) process.exit(130) // a second Ctrl-C forces exit
    shutdown.abort(new Error('interrupted'))
  })
  return procs
}

/** The path of an executable on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name)
  }
  return null
}

/** Seconds since `t` (a performance.now()), for progress lines. */
export function secondsSince(t: number): string {
  return ((performance.now() - t) / 1000).toFixed(1)
}
