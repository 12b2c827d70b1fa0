import { spawn } from 'node:child_process'
import { mkdirSync, openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { DaemonInfo } from '../../../src/node/daemon-info.ts'
import type { DaemonEnv } from '../../cli/daemon-helpers.ts'

const LAUNCHER = fileURLToPath(new URL('./hffs-node-gateway-daemon.ts', import.meta.url))
const START_TIMEOUT_MS = 30_000

/** A daemon with the gateway in a process of its own, started from hffs-node-gateway-daemon.ts (the CLI knows a daemon by \`hffs-node\` in its command line). */
export interface GatewayDaemon {
  info: DaemonInfo
  /** `http://127.0.0.1:PORT`: the gateway, for `hubUrl` / `HF_ENDPOINT`. */
  url: string
  libp2pPort: number
  peerId: string
  logPath: string
}

/**
 * Starts hffs-node-gateway-daemon.ts with `env` (its HFFS_HOME must come from useDaemonHomes, which kills it after
 * the test), output to `HFFS_HOME/daemon.log`, in `netns` when given; resolves once it printed its daemon info.
 */
export async function startGatewayDaemon(
  env: DaemonEnv & { HF_ENDPOINT: string },
  options: { netns?: string } = {},
): Promise<GatewayDaemon> {
  mkdirSync(env.HFFS_HOME, { recursive: true })
  const logPath = join(env.HFFS_HOME, 'daemon.log')
  const log = openSync(logPath, 'a')
  // In a network namespace the test made: `ip netns exec` runs node in place, so the pid is the daemon's.
  const [command, args] =
    options.netns === undefined
      ? [process.execPath, [LAUNCHER]]
      : ['ip', ['netns', 'exec', options.netns, process.execPath, LAUNCHER]]
  const child = spawn(command, args, {
    env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', ...env },
    stdio: ['ignore', 'pipe', log],
  })
  closeSync(log)
  const stdout = child.stdout as Readable
  try {
    const info = await new Promise<DaemonInfo>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the gateway daemon did not start in time')),
        START_TIMEOUT_MS,
      )
      createInterface({ input: stdout }).once('line', (line) => {
        clearTimeout(timer)
        resolve(JSON.parse(line) as DaemonInfo)
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`the gateway daemon exited with code ${code}; see ${logPath}`))
      })
    })
    stdout.resume()
    const addr = info.listen.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/')) as string
    return {
      info,
      url: info.controlUrl,
      libp2pPort: Number(addr.split('/')[4]),
      peerId: info.peerId,
      logPath,
    }
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
}
