import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { killDaemon, START_ARGS } from '../../test/cli/daemon-helpers.ts'
import { runCli } from '../../test/helpers/run-cli.ts'

const CLI_TIMEOUT_MS = 60_000

/** An `hffs-node` daemon with a home and cache of its own, on 127.0.0.1 only, without mDNS. */
export interface BenchDaemon {
  /** HFFS_HOME, HF_HUB_CACHE, HF_HOME and HF_ENDPOINT of this daemon: pass it to every CLI call for it. */
  readonly env: NodeJS.ProcessEnv
  readonly home: string
  readonly cacheDir: string
  readonly pid: number
  readonly peerId: string
  readonly libp2pPort: number
  /** Runs `hffs-node <args>` against this daemon; throws on a non-zero exit. */
  cli(args: string[]): Promise<string>
  /** `hffs-node stop` (so that a --cpu-prof profile is written), SIGKILL if that fails. Harmless twice. */
  stop(): Promise<void>
  /** SIGKILL at once, for a process 'exit' handler. */
  killNow(): void
}

export interface StartBenchDaemonParams {
  /** Its home, cache and HF home go under this folder. */
  dir: string
  hubUrl: string
  /** NODE_OPTIONS of the daemon only, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
  nodeOptions?: string
  /** More `hffs-node start` flags, e.g. `['--max-upload-rate', '25000000']`. */
  startArgs?: string[]
}

/**
 * Starts a detached daemon (`hffs-node start --port 0 --listen /ip4/127.0.0.1/tcp/0 --no-mdns`, then
 * `startArgs`). Started again on the same `dir`, it keeps its peer id and cache.
 */
export async function startBenchDaemon(params: StartBenchDaemonParams): Promise<BenchDaemon> {
  const home = join(params.dir, 'hffs-home')
  const cacheDir = join(params.dir, 'hub-cache')
  const env: NodeJS.ProcessEnv = {
    HFFS_HOME: home,
    HF_HUB_CACHE: cacheDir,
    HF_HOME: join(params.dir, 'hf-home'),
    HF_ENDPOINT: params.hubUrl,
    HF_TOKEN: '',
    NODE_OPTIONS: '',
  }
  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> => {
    const r = await runCli(args, { ...env, ...extraEnv }, CLI_TIMEOUT_MS)
    if (r.code !== 0) throw new Error(`hffs-node ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`)
    return r.stdout
  }
  // The start command spawns the daemon with its own environment: NODE_OPTIONS reaches the daemon.
  await cli([...START_ARGS, ...(params.startArgs ?? [])], { NODE_OPTIONS: params.nodeOptions ?? '' })
  const pid = (JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number }).pid
  let stopped = false
  const killNow = (): void => {
    try {
      if (!stopped) process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  try {
    const status = JSON.parse(await cli(['status', '--json'])) as { peerId: string; listen: string[] }
    const addr = status.listen.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
    if (addr === undefined)
      throw new Error(`daemon listens on no 127.0.0.1 address: ${status.listen.join(' ')}`)
    return {
      env,
      home,
      cacheDir,
      pid,
      peerId: status.peerId,
      libp2pPort: Number(addr.split('/')[4]),
      cli: (args) => cli(args),
      stop: async () => {
        if (stopped) return
        try {
          await cli(['stop'])
        } finally {
          await killDaemon(home)
          stopped = true
        }
      },
      killNow,
    }
  } catch (err) {
    killNow()
    throw err
  }
}
