import { execFileSync } from 'node:child_process'
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

/**
 * Writes every dirty page of the machine to disk (`sync`, bounded by `timeoutMs`) and returns the seconds it
 * took. Run before each timed case: the gigabytes the seeders (or daemon A) just pulled from the mock Hub
 * are otherwise written back by the kernel during the first cases (from 30 s after they were written, or
 * sooner past 10% of memory), which then share the disk and the 2 cores with that writeback. The cases
 * that ran first looked slower for it.
 */
export function flushDirtyPages(timeoutMs: number): number {
  const t = performance.now()
  execFileSync('sync', [], { stdio: 'ignore', timeout: timeoutMs })
  return (performance.now() - t) / 1000
}
