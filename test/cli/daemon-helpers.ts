import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, type CliResult } from '../helpers/run-cli.ts'

/** Every daemon a test starts: loopback only, any free ports, no mDNS (never multicast outside a netns). */
export const START_ARGS = ['start', '--port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns']

export interface DaemonEnv extends NodeJS.ProcessEnv {
  HFFS_HOME: string
  HF_HUB_CACHE: string
}

/**
 * Temp homes for daemons, one folder per test. After each test, every daemon started in one of them is
 * killed (even when the test failed) before the folder is removed.
 */
export function useDaemonHomes(): (name: string) => DaemonEnv {
  let root = ''
  const homes: string[] = []
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hffs-daemon-'))
  })
  afterEach(async () => {
    for (const home of homes.splice(0)) await killDaemon(home)
    await rm(root, { recursive: true, force: true })
  })
  return (name) => {
    const home = join(root, name)
    homes.push(home)
    return { HFFS_HOME: home, HF_HUB_CACHE: join(root, `${name}-hub`), HF_HOME: join(root, `${name}-hf`) }
  }
}

/** SIGKILLs the daemon holding `home`'s lock (or named in daemon.json) and waits until it is gone. */
export async function killDaemon(home: string): Promise<void> {
  const pids = new Set<number>()
  for (const file of ['daemon.lock', 'daemon.json']) {
    try {
      const text = readFileSync(join(home, file), 'utf8')
      const pid = file === 'daemon.lock' ? Number(text.trim()) : (JSON.parse(text) as { pid: number }).pid
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) pids.add(pid)
    } catch {
      // no such file: nothing to kill
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      continue
    }
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100))
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ') // a zombie is gone for our purpose
  } catch {
    return false
  }
}

export async function startDaemonCli(env: DaemonEnv, extra: string[] = []): Promise<CliResult> {
  return runCli([...START_ARGS, ...extra], env)
}

export interface ControlAnswer {
  status: number
  body: unknown
}

/** A raw request to the control API of the daemon of `home`; `token` false sends none. */
export async function controlRequest(
  home: string,
  method: string,
  path: string,
  options: { token?: string | false; body?: unknown } = {},
): Promise<ControlAnswer> {
  const info = JSON.parse(await readFile(join(home, 'daemon.json'), 'utf8')) as { port: number }
  const token =
    options.token === undefined ? (await readFile(join(home, 'control.token'), 'utf8')).trim() : options.token
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: info.port,
        method,
        path,
        agent: false,
        timeout: 10_000,
        headers: token === false ? {} : { authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(payload)
  })
}

/** Polls `check` every 200 ms until it returns a value other than undefined, for at most `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(
    `timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`,
  )
}

/** The TCP port of the first libp2p listen address in `status --json`. */
export function libp2pPort(status: { listen: string[] }): number {
  return Number(status.listen[0].split('/')[4])
}
