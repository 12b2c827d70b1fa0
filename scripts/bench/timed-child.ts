import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

/** GNU time: `%M` is the peak resident set size of the command in KiB, `%U %S` its CPU seconds. */
const GNU_TIME = '/usr/bin/time'
const OUTPUT_TAIL_CHARS = 16 * 1024

export class ChildFailedError extends Error {
  override name = 'ChildFailedError'
}

export interface TimedRunParams {
  /** For messages, e.g. "hffs-node model add". */
  what: string
  /** Arguments of `node` (this process's binary), or of `command` when given. */
  nodeArgs: string[]
  /** Another program to run instead of node, e.g. `curl`. */
  command?: string
  env: NodeJS.ProcessEnv
  /** Where GNU time writes the peak RSS and CPU time. */
  timeFile: string
  timeoutMs: number
  signal: AbortSignal
}

export interface TimedRun {
  seconds: number
  maxRssBytes: number
  /** User + system CPU time of the command and its threads. */
  cpuSeconds: number
  stdout: string
}

/** Process groups of the children still running, so that an exit can end them all. */
const running = new Set<number>()

/** Kills every child started here that still runs (and what it started). Synchronous: fit for 'exit'. */
export function killRunningChildren(): void {
  for (const pgid of running) killGroup(pgid)
  running.clear()
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/**
 * Runs `node ...nodeArgs` under GNU time in its own process group, and returns its wall time (spawn to
 * exit), CPU time and peak RSS. A non-zero exit, the timeout or `signal` kills the group and throws.
 */
export async function runTimed(params: TimedRunParams): Promise<TimedRun> {
  if (!existsSync(GNU_TIME)) throw new ChildFailedError(`${GNU_TIME} is needed to measure peak RSS`)
  params.signal.throwIfAborted()
  const started = performance.now()
  const child = spawn(
    GNU_TIME,
    ['-f', '%M %U %S', '-o', params.timeFile, params.command ?? process.execPath, ...params.nodeArgs],
    {
      env: params.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const pgid = child.pid
  if (pgid !== undefined) running.add(pgid)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-OUTPUT_TAIL_CHARS)))
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-OUTPUT_TAIL_CHARS)))
  let killedFor: string | null = null
  const kill = (why: string): void => {
    killedFor ??= why
    if (pgid !== undefined) killGroup(pgid)
  }
  const timer = setTimeout(() => kill(`timed out after ${params.timeoutMs} ms`), params.timeoutMs)
  const onAbort = (): void => kill('interrupted')
  params.signal.addEventListener('abort', onAbort, { once: true })
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      stderr += String(err)
      resolve(null)
    })
    child.once('close', (c) => resolve(c))
  })
  const seconds = (performance.now() - started) / 1000
  clearTimeout(timer)
  params.signal.removeEventListener('abort', onAbort)
  if (pgid !== undefined) {
    killGroup(pgid) // anything the command left behind
    running.delete(pgid)
  }
  if (killedFor !== null || code !== 0) {
    const why = killedFor ?? `exit code ${code}`
    throw new ChildFailedError(`${params.what}: ${why}\n${stderr.trim() || stdout.trim()}`)
  }
  // GNU time prefixes "Command exited with non-zero status N" on failure; the figures are the last line
  const lines = (await readFile(params.timeFile, 'utf8')).trim().split('\n')
  const [kib, user, sys] = (lines.at(-1) ?? '').split(' ').map(Number)
  if (!(kib > 0 && user >= 0 && sys >= 0)) throw new ChildFailedError(`${params.what}: no figures from time`)
  return { seconds, maxRssBytes: kib * 1024, cpuSeconds: user + sys, stdout }
}
