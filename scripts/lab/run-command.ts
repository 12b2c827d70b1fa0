import { spawn } from 'node:child_process'

export interface RunCommandOptions {
  /** Killed (TERM, then KILL after `killGraceMs`) once this passes; default 10 s. */
  timeoutMs?: number
  /** Time between TERM and KILL; default 2 s. */
  killGraceMs?: number
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Written to stdin, which is then closed; stdin is empty by default. */
  input?: string | Buffer
}

export interface CommandResult {
  /** Exit code, or null when a signal ended the command. */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** True when the timeout (or the abort signal) ended the command. */
  timedOut: boolean
}

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_KILL_GRACE_MS = 2_000

/** Runs a command to its end, bounded; failing to start is a result (code 127), not an exception. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: RunCommandOptions = {},
): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    let killTimer: NodeJS.Timeout | undefined
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')

    const stop = (): void => {
      if (timedOut) return
      timedOut = true
      child.kill('SIGTERM')
      killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    }
    const timer = setTimeout(stop, timeoutMs)
    opts.signal?.addEventListener('abort', stop, { once: true })
    if (opts.signal?.aborted) stop()

    const finish = (result: Omit<CommandResult, 'stdout' | 'stderr' | 'timedOut'>): void => {
      clearTimeout(timer)
      clearTimeout(killTimer)
      opts.signal?.removeEventListener('abort', stop)
      resolve({ ...result, stdout, stderr, timedOut })
    }
    child.once('error', (err) => {
      stderr += `${cmd}: ${err.message}\n`
      finish({ code: 127, signal: null })
    })
    child.once('close', (code, signal) => finish({ code, signal }))
  })
}
