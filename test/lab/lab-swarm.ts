// Real daemons and a mock Hub on the hosts of a lab (scripts/lab): the helpers of the scenario specs.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ChildOutput } from '../../scripts/lab/child-output.ts'
import type { Lab } from '../../scripts/lab/lab.ts'
import { waitFor } from '../cli/daemon-helpers.ts'
import { DAEMON_NODE_FLAGS } from '../../src/node/spawn-daemon.ts'
import { BIN } from '../helpers/run-cli.ts'

const node = process.execPath
const MOCK_HUB_CLI = fileURLToPath(new URL('../../scripts/mock-hub/cli.ts', import.meta.url))
/** Fixed ports are fine: every host is its own namespace. */
export const HUB_PORT = 8080
export const P2P_PORT = 4001
const CONTROL_PORT = 9009
const READY_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 20_000

export interface DaemonOptions {
  /** mDNS on (only ever inside a lab namespace); default false. */
  mdns?: boolean
  /** Relay multiaddrs to reserve a slot on. */
  relays?: string[]
  relayServer?: boolean
  /** A swarm key file: the sites form one private swarm, whose members trust each other's listings. */
  swarmKey?: string
  /** HF_HUB_OFFLINE for the CLI commands run against this daemon (a host that cannot reach the Hub). */
  offline?: boolean
  /** More environment for the daemon only (e.g. DEBUG for libp2p's own logs). */
  env?: NodeJS.ProcessEnv
}

export interface LabDaemon {
  host: string
  home: string
  env: NodeJS.ProcessEnv
  peerId: string
  output: ChildOutput
  /** SIGTERM, and wait for the process to end. */
  stop(): Promise<void>
}

export interface ModelAddResult {
  ms: number
  bytesFromPeers: number
  bytesFromHub: number
  bytesByPeer: Record<string, number>
}

/** Per-host homes and caches under `root`; the daemons run in the hosts' namespaces. */
export class LabSwarm {
  readonly lab: Lab
  readonly root: string
  readonly daemons = new Map<string, LabDaemon>()
  private hubOutput: ChildOutput | null = null

  constructor(lab: Lab, root: string) {
    this.lab = lab
    this.root = root
  }

  get hubUrl(): string {
    return `http://${this.lab.hosts.hub.ip}:${HUB_PORT}`
  }

  /** The mock Hub on the hub host, serving `mockRoot`; resolves once it listens. */
  async startHub(mockRoot: string): Promise<void> {
    const child = this.lab.spawn('hub', node, [
      MOCK_HUB_CLI,
      '--root',
      mockRoot,
      '--host',
      this.lab.hosts.hub.ip,
      '--port',
      String(HUB_PORT),
      '--warm',
    ])
    this.hubOutput = new ChildOutput(child)
    await this.hubOutput.waitForLine(/mock-hub listening/, READY_TIMEOUT_MS)
  }

  /** Content bytes the Hub has served since the last reset. */
  async hubContentBytes(): Promise<number> {
    const stats = JSON.parse(await this.hubRequest('GET', '/_mock/stats')) as { totalBytes: number }
    return stats.totalBytes
  }

  async resetHubStats(): Promise<void> {
    await this.hubRequest('POST', '/_mock/reset')
  }

  /** An HTTP request to the Hub from its own host (the test process is outside every lab namespace). */
  private async hubRequest(method: string, path: string): Promise<string> {
    const script =
      `const r = await fetch(${JSON.stringify(this.hubUrl + path)}, { method: ${JSON.stringify(method)} });` +
      `if (!r.ok) { console.error('HTTP ' + r.status); process.exit(1) } process.stdout.write(await r.text())`
    const r = await this.lab.exec('hub', node, ['--input-type=module', '-e', script], { timeoutMs: 15_000 })
    if (r.code !== 0) throw new Error(`mock Hub ${method} ${path}: ${r.stderr.trim() || `exit ${r.code}`}`)
    return r.stdout
  }

  envOf(host: string, opts: DaemonOptions = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: join(this.root, host),
      HFFS_HOME: join(this.root, host, 'hffs'),
      HF_HOME: join(this.root, host, 'hf'),
      HF_HUB_CACHE: join(this.root, host, 'hub'),
      HF_ENDPOINT: this.hubUrl,
      HF_TOKEN: '',
      HF_HUB_OFFLINE: opts.offline === true ? '1' : '',
    }
  }

  /** `hffs-node start --foreground` on `host`; resolves once it is ready. The home stays across restarts. */
  async startDaemon(host: string, opts: DaemonOptions = {}): Promise<LabDaemon> {
    if (this.daemons.has(host)) throw new Error(`${host} already runs a daemon`)
    const env = this.envOf(host, opts)
    await mkdir(env.HFFS_HOME as string, { recursive: true })
    // With the daemon's flags: bin/hffs-node.js then runs it in this process, not as a child of its own.
    const args = [...DAEMON_NODE_FLAGS, BIN, 'start', '--foreground', '--port', String(CONTROL_PORT)]
    args.push('--listen', `/ip4/0.0.0.0/tcp/${P2P_PORT}`, opts.mdns === true ? '--mdns' : '--no-mdns')
    for (const r of opts.relays ?? []) args.push('--relay', r)
    if (opts.relayServer === true) args.push('--relay-server')
    if (opts.swarmKey !== undefined) args.push('--swarm-key', opts.swarmKey)
    const child = this.lab.spawn(host, node, args, {
      env: { ...env, HFFS_DEBUG: process.env.HFFS_LAB_DEBUG === '1' ? '1' : '', ...opts.env },
    })
    const output = new ChildOutput(child)
    // Each daemon's log, kept with the run's files (see HFFS_LAB_KEEP in the README).
    await mkdir(join(this.root, 'logs'), { recursive: true })
    const log = createWriteStream(join(this.root, 'logs', `${host}.log`), { flags: 'a' })
    child.stderr?.on('data', (text: string) => log.write(text))
    child.once('close', () => log.end())
    let peerLine: string
    try {
      peerLine = await output.waitForLine(/^peer id\s/, READY_TIMEOUT_MS)
    } catch (err) {
      child.kill('SIGKILL')
      throw new Error(
        `daemon on ${host} did not start: ${(err as Error).message}\n${output.stderr.slice(-2000)}`,
        { cause: err },
      )
    }
    const daemon: LabDaemon = {
      host,
      home: env.HFFS_HOME as string,
      env,
      peerId: peerLine.split(/\s+/)[2],
      output,
      stop: async () => {
        this.daemons.delete(host)
        child.kill('SIGTERM')
        await output.waitForExit(STOP_TIMEOUT_MS)
      },
    }
    this.daemons.set(host, daemon)
    return daemon
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.daemons.values()].map((d) => d.stop().catch(() => {})))
  }

  /** Runs the CLI against the daemon of `host`, in its namespace. */
  async cli(
    host: string,
    args: string[],
    timeoutMs = 60_000,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const daemon = this.daemons.get(host)
    const env = daemon?.env ?? this.envOf(host)
    return this.lab.exec(host, node, [BIN, ...args], { env, timeoutMs })
  }

  /** `hffs-node model add REPO --json` on `host`; throws with the CLI's error when it fails. */
  async modelAdd(host: string, repo: string, timeoutMs = 240_000): Promise<ModelAddResult> {
    const t0 = Date.now()
    const r = await this.cli(host, ['model', 'add', repo, '--json'], timeoutMs)
    const ms = Date.now() - t0
    if (r.code !== 0) throw new Error(`model add ${repo} on ${host}: exit ${r.code}: ${r.stderr.trim()}`)
    const out = JSON.parse(r.stdout) as Omit<ModelAddResult, 'ms'>
    return {
      ms,
      bytesFromPeers: out.bytesFromPeers,
      bytesFromHub: out.bytesFromHub,
      bytesByPeer: out.bytesByPeer,
    }
  }

  /** sha256 of a file of the model in `host`'s HF cache (`model ls --file`). */
  async fileHash(host: string, repo: string, file: string): Promise<string> {
    const r = await this.cli(host, ['model', 'ls', '--repo-id', repo, '--file', file])
    if (r.code !== 0) throw new Error(`model ls on ${host}: ${r.stderr.trim()}`)
    return createHash('sha256')
      .update(await readFile(r.stdout.trim()))
      .digest('hex')
  }

  /** `peer ls --json` of `host`. */
  async peers(
    host: string,
  ): Promise<{ peerId: string; sources: string[]; connected: boolean; addresses: string[] }[]> {
    const r = await this.cli(host, ['peer', 'ls', '--json'])
    if (r.code !== 0) throw new Error(`peer ls on ${host}: ${r.stderr.trim()}`)
    return JSON.parse(r.stdout) as {
      peerId: string
      sources: string[]
      connected: boolean
      addresses: string[]
    }[]
  }

  /** Bytes an interface of `host` has sent and received (kernel counters, its namespace's sysfs). */
  async ifaceBytes(host: string, iface: string): Promise<{ tx: number; rx: number }> {
    const read = async (what: string): Promise<number> => {
      const r = await this.lab.exec(host, 'cat', [`/sys/class/net/${iface}/statistics/${what}_bytes`])
      if (r.code !== 0) throw new Error(`counters of ${host}/${iface}: ${r.stderr.trim()}`)
      return Number(r.stdout.trim())
    }
    return { tx: await read('tx'), rx: await read('rx') }
  }
}

/** Polls until `check` gives a value, for at most `ms` (the CLI tests' waitFor). */
export const waitUntil = waitFor

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
export const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`
