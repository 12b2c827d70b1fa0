// Network-namespace labs for tests: a TypeScript face on lab.sh (see README.md beside it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { access, constants, readFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseLabState, type LabHost, type LabState } from './lab-state.ts'
import { runCommand, type CommandResult, type RunCommandOptions } from './run-command.ts'

export type { LabHost, LabIface, LabNet, LabState } from './lab-state.ts'
export type { CommandResult, RunCommandOptions } from './run-command.ts'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

export const LAB_SCRIPT = here('./lab.sh')

/** Small node programs to run inside lab hosts with `process.execPath`; usage at the top of each. */
export const LAB_PROBES = {
  tcpProbe: here('./probes/tcp-probe.ts'),
  udpMulticast: here('./probes/udp-multicast.ts'),
  tcpBulk: here('./probes/tcp-bulk.ts'),
} as const

const UP_TIMEOUT_MS = 60_000
const DOWN_TIMEOUT_MS = 30_000
const CHECK_TIMEOUT_MS = 15_000
const EXEC_TIMEOUT_MS = 10_000
const REACH_TIMEOUT_MS = 1_000
/** lab.sh's exit code when `up --fresh` finds the run id taken. */
const EXIT_ID_TAKEN = 3
const ID_ATTEMPTS = 5

export class LabError extends Error {
  override name = 'LabError'
}

export interface LabOptions {
  /** Run id, `hl` + 4 hex digits; default: a fresh random one. It must not be in use. */
  id?: string
  /** Where the JSON description goes; default /tmp/hffs-lab/<id>.json. */
  stateFile?: string
  /** Rate of the link between gw and hub, tc syntax; default '100mbit'. */
  hubRate?: string
  /** Site A subnet, x.y.z.0/24; default 10.77.1.0/24. */
  netA?: string
  /** Site B subnet; default 10.77.2.0/24. */
  netB?: string
  /** Hub link subnet; default 10.77.9.0/24. */
  netHub?: string
  /** Hosts a1..aN on site A; default 4. */
  siteAHosts?: number
  /** Hosts b1..bN on site B; default 3. */
  siteBHosts?: number
  /** Bound on building the lab; default 60 s. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface LabSpawnOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface ReachOptions {
  /** How long to wait for an answer; default 1 s. */
  timeoutMs?: number
  /** `ping` (ICMP echo) or `tcp` (a connect to port 9: a refusal is an answer); default ping if installed. */
  method?: 'ping' | 'tcp'
  signal?: AbortSignal
}

export interface Lab {
  readonly id: string
  readonly state: LabState
  readonly hosts: Readonly<Record<string, LabHost>>
  /** Runs a command in a host's namespace to its end, bounded (default 10 s). */
  exec(host: string, cmd: string, args?: string[], opts?: RunCommandOptions): Promise<CommandResult>
  /** Starts a command in a host's namespace; stdout and stderr are pipes. destroy() kills it if still running. */
  spawn(host: string, cmd: string, args?: string[], opts?: LabSpawnOptions): ChildProcess
  /** Whether `from` gets an answer from `ip`. Throws if the probe itself fails or hangs. */
  reaches(from: string, ip: string, opts?: ReachOptions): Promise<boolean>
  /** Kills what spawn() started and removes every namespace of the run. Safe to call twice. */
  destroy(): Promise<void>
}

function runLabScript(args: string[], opts: RunCommandOptions): Promise<CommandResult> {
  return runCommand('bash', [LAB_SCRIPT, ...args], opts)
}

const why = (result: CommandResult): string =>
  result.timedOut
    ? 'timed out'
    : (result.stderr
        .trim()
        .split('\n')
        .at(-1)
        ?.replace(/^lab\.sh: /, '') ??
        '') ||
      `exit ${result.code}`

let pingInstalled: Promise<boolean> | undefined

function hasPing(): Promise<boolean> {
  pingInstalled ??= (async () => {
    for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      try {
        await access(join(dir, 'ping'), constants.X_OK)
        return true
      } catch {
        // not in this folder
      }
    }
    return false
  })()
  return pingInstalled
}

class NamespaceLab implements Lab {
  readonly id: string
  readonly state: LabState
  readonly hosts: Readonly<Record<string, LabHost>>
  private readonly children = new Set<ChildProcess>()
  private destroyed: Promise<void> | undefined
  // A test run that ends without destroy() (process.exit) still removes its lab.
  private readonly onProcessExit = (): void => {
    spawnSync('bash', [LAB_SCRIPT, 'down', '--id', this.id], { stdio: 'ignore', timeout: DOWN_TIMEOUT_MS })
  }

  constructor(state: LabState) {
    this.state = state
    this.id = state.id
    this.hosts = state.hosts
    process.once('exit', this.onProcessExit)
  }

  private ns(host: string): string {
    const found = this.hosts[host]
    if (found === undefined) throw new LabError(`lab ${this.id} has no host ${host}`)
    return found.ns
  }

  exec(host: string, cmd: string, args: string[] = [], opts: RunCommandOptions = {}): Promise<CommandResult> {
    return runCommand('ip', ['netns', 'exec', this.ns(host), cmd, ...args], {
      timeoutMs: EXEC_TIMEOUT_MS,
      ...opts,
    })
  }

  spawn(host: string, cmd: string, args: string[] = [], opts: LabSpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new LabError(`lab ${this.id} is destroyed`)
    // `ip netns exec` execs the command, so the child's pid is the command's own.
    const child = spawn('ip', ['netns', 'exec', this.ns(host), cmd, ...args], {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    child.once('error', () => this.children.delete(child))
    return child
  }

  async reaches(from: string, ip: string, opts: ReachOptions = {}): Promise<boolean> {
    const timeoutMs = opts.timeoutMs ?? REACH_TIMEOUT_MS
    const method = opts.method ?? ((await hasPing()) ? 'ping' : 'tcp')
    const bound = { timeoutMs: timeoutMs + 5_000, signal: opts.signal }
    if (method === 'ping') {
      const wait = String(Math.max(1, Math.ceil(timeoutMs / 1000)))
      const r = await this.exec(from, 'ping', ['-n', '-q', '-c', '1', '-W', wait, ip], bound)
      if (r.code === 0 || r.code === 1) return r.code === 0
      if (r.code === 2 && /unreachable/i.test(r.stderr + r.stdout)) return false
      throw new LabError(`ping ${ip} from ${from} failed: ${why(r)}`)
    }
    const r = await this.exec(
      from,
      process.execPath,
      [LAB_PROBES.tcpProbe, ip, '--timeout-ms', String(timeoutMs)],
      bound,
    )
    if (r.code === 0 || r.code === 1) return r.code === 0
    throw new LabError(`tcp probe of ${ip} from ${from} failed: ${why(r)}`)
  }

  destroy(): Promise<void> {
    this.destroyed ??= this.tearDown()
    return this.destroyed
  }

  private async tearDown(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL')
    const result = await runLabScript(['down', '--id', this.id, '--state', this.state.stateFile], {
      timeoutMs: DOWN_TIMEOUT_MS,
    })
    process.off('exit', this.onProcessExit)
    if (result.code !== 0) throw new LabError(`lab.sh down ${this.id}: ${why(result)}`)
  }
}

function upArgs(id: string, options: LabOptions): string[] {
  const args = ['up', '--fresh', '--id', id, '--owner-pid', String(process.pid)]
  const add = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) args.push(flag, String(value))
  }
  add('--state', options.stateFile)
  add('--rate', options.hubRate)
  add('--net-a', options.netA)
  add('--net-b', options.netB)
  add('--net-hub', options.netHub)
  add('--a-hosts', options.siteAHosts)
  add('--b-hosts', options.siteBHosts)
  return args
}

/** Builds a lab (lab.sh up) owned by this process. On failure nothing of it is left behind. */
export async function createLab(options: LabOptions = {}): Promise<Lab> {
  for (let attempt = 1; ; attempt++) {
    const id = options.id ?? `hl${randomBytes(2).toString('hex')}`
    const result = await runLabScript(upArgs(id, options), {
      timeoutMs: options.timeoutMs ?? UP_TIMEOUT_MS,
      signal: options.signal,
    })
    if (result.code === EXIT_ID_TAKEN && options.id === undefined && attempt < ID_ATTEMPTS) continue
    if (result.code !== 0) {
      // lab.sh removes a half-built lab itself, unless it was killed (timeout, abort).
      if (result.code !== EXIT_ID_TAKEN)
        await runLabScript(['down', '--id', id], { timeoutMs: DOWN_TIMEOUT_MS })
      throw new LabError(`lab.sh up ${id}: ${why(result)}`)
    }
    const stateFile = result.stdout.trim().split('\n').at(-1) ?? ''
    try {
      return new NamespaceLab(parseLabState(await readFile(stateFile, 'utf8')))
    } catch (err) {
      await runLabScript(['down', '--id', id], { timeoutMs: DOWN_TIMEOUT_MS })
      throw err
    }
  }
}

/** Whether this machine can build a lab: root, `ip netns`, veth, bridge and tc tbf; leaves nothing behind. */
export async function labAvailable(): Promise<{ ok: boolean; why?: string }> {
  if (process.platform !== 'linux') return { ok: false, why: 'network namespaces need Linux' }
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (ip netns)' }
  const result = await runLabScript(['check'], { timeoutMs: CHECK_TIMEOUT_MS })
  return result.code === 0 ? { ok: true } : { ok: false, why: why(result) }
}

/** Removes what labs of dead processes left behind (lab.sh --all-stale); live labs are kept. */
export async function removeStaleLabs(): Promise<string> {
  const result = await runLabScript(['--all-stale'], { timeoutMs: DOWN_TIMEOUT_MS * 2 })
  if (result.code !== 0) throw new LabError(`lab.sh --all-stale: ${why(result)}`)
  return result.stdout
}
