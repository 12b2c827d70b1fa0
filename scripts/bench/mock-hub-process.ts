import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { MockHubKnobs, MockHubStats } from '../mock-hub/index.ts'

const MOCK_HUB_CLI = fileURLToPath(new URL('../mock-hub/cli.ts', import.meta.url))
const CONTROL_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

/** The mock Hub running in a process of its own, driven through its `/_mock/*` endpoints. */
export interface MockHubProcess {
  readonly url: string
  /** Its process id, for /proc readings of CPU and memory. */
  readonly pid: number
  setKnobs(knobs: MockHubKnobs): Promise<void>
  resetStats(): Promise<void>
  stats(): Promise<MockHubStats>
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. Harmless twice. */
  close(): Promise<void>
  /** SIGKILL at once, for a process 'exit' handler. */
  killNow(): void
}

export interface StartMockHubProcessParams {
  root: string
  /** Bounds start-up, which includes hashing every repo (`--warm`). */
  startTimeoutMs: number
  signal: AbortSignal
}

/**
 * Starts `scripts/mock-hub/cli.ts --warm` on a free port of 127.0.0.1, so that its CPU is not the
 * benchmark's and every etag and Xet hash is computed before anything is timed.
 */
export async function startMockHubProcess(params: StartMockHubProcessParams): Promise<MockHubProcess> {
  const child = spawn(process.execPath, [MOCK_HUB_CLI, '--root', params.root, '--port', '0', '--warm'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const close = async (): Promise<void> => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }

  const signal = AbortSignal.any([params.signal, AbortSignal.timeout(params.startTimeoutMs)])
  let url: string
  try {
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /^mock-hub listening on (\S+)/.exec(line)
        if (m !== null) resolve(m[1])
      })
      child.once('exit', () => reject(new Error('it exited')))
      child.once('error', reject)
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
    })
  } catch (err) {
    await close()
    throw new Error(`mock hub did not start: ${(err as Error).message}\n${stderr.trim()}`, { cause: err })
  }

  const base = url
  const control = async (path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}/_mock/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    })
    if (!res.ok) throw new Error(`mock hub ${path}: HTTP ${res.status} ${await res.text()}`)
    return res.json()
  }
  return {
    url: base,
    pid: child.pid as number,
    setKnobs: async (knobs) => void (await control('options', knobs)),
    resetStats: async () => void (await control('reset', {})),
    stats: async () => (await control('stats')) as MockHubStats,
    close,
    killNow: () => void child.kill('SIGKILL'),
  }
}
