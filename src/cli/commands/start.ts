import { Option, type Command } from 'commander'
import { SHUTDOWN_TIMEOUT_MS } from '../../node/constants.ts'
import { readDaemonInfo } from '../../node/daemon-info.ts'
import { AlreadyRunningError, runningDaemonPid } from '../../node/daemon-lock.ts'
import { daemonStatus, type DaemonStatus } from '../../node/daemon-status.ts'
import { daemonLogPath, resolveNodeHome } from '../../node/home.ts'
import { createLogger } from '../../node/logger.ts'
import { loadNodeConfig, type NodeConfig, type NodeConfigFlags } from '../../node/node-config.ts'
import { onShutdownSignals } from '../../node/process-signals.ts'
import { spawnDaemon } from '../../node/spawn-daemon.ts'
import { parseGatewayListenAddress } from '../../node/gateway/listen-address.ts'
import { resolveHubCacheDir } from '../../store/hf-cache/index.ts'
import { UsageError } from '../errors.ts'
import { parseNumber } from './shared-options.ts'

interface StartOptions {
  port?: number
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
  maxUploadRate?: number
  maxDownloadRate?: number
  gatewayListen?: string[]
  swarmKey?: string
  relay?: string[]
  relayServer?: boolean
  foreground: boolean
}

export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('Start the daemon of this HFFS_HOME (detached unless --foreground)')
    .option(
      '--port <port>',
      'Control API port on 127.0.0.1; 0 = any free port (default 9009, or config.json)',
      parseNumber,
    )
    .option('--listen <multiaddr...>', 'libp2p listen multiaddr, repeatable (default /ip4/0.0.0.0/tcp/0)')
    .option('--bootstrap <multiaddr...>', 'Peer multiaddr to dial at start and keep connected, repeatable')
    // Both spellings, and no default: config.json decides when neither is given.
    .option('--mdns', 'Find peers on the LAN by mDNS (default on; --no-mdns)')
    .addOption(new Option('--no-mdns').hideHelp())
    .option(
      '--max-upload-rate <bytes>',
      'Cap on bytes/s served to peers, all together (default none, or config maxUploadRate)',
      parseNumber,
    )
    .option(
      '--max-download-rate <bytes>',
      'Cap on bytes/s received from peers (default none, or config maxDownloadRate)',
      parseNumber,
    )
    .option(
      '--gateway-listen <host:port...>',
      'Also serve the HF-compatible gateway (only its Hub routes, never the control API) on HOST:PORT, e.g. 0.0.0.0:8080; repeatable (default: only on the control port, 127.0.0.1)',
    )
    .option(
      '--swarm-key <file>',
      'Private swarm: swarm key file (hffs-node swarm-key generate); only its holders connect',
    )
    .option(
      '--relay <multiaddr...>',
      'Circuit relay to reserve a slot on (multiaddr ending in /p2p/ID), repeatable (or config relays)',
    )
    .option(
      '--relay-server',
      'Be a circuit relay for the swarm (default off, or config relayServer; caps relayMax*; --no-relay-server)',
    )
    .addOption(new Option('--no-relay-server').hideHelp())
    .option(
      '--foreground',
      'Run in this process, logging to stderr, until SIGINT/SIGTERM or `hffs-node stop`',
      false,
    )
    .action(start)
}

async function start(args: StartOptions): Promise<void> {
  const home = resolveNodeHome()
  checkGatewayListen(args.gatewayListen)
  const flags: NodeConfigFlags = {
    port: args.port,
    listen: args.listen,
    bootstrap: args.bootstrap,
    mdns: args.mdns,
    maxUploadRate: args.maxUploadRate,
    maxDownloadRate: args.maxDownloadRate,
    gatewayListen: args.gatewayListen,
    swarmKey: args.swarmKey,
    relays: args.relay,
    relayServer: args.relayServer,
  }
  const config = await loadNodeConfig({ home, flags }) // a bad config fails here, on the terminal
  if (await printIfRunning(home)) return
  if (!args.foreground) {
    const status = await spawnDaemon({ home, args: forwardedFlags(args, config) })
    printStarted(status, daemonLogPath(home))
    return
  }
  const shutdown = new AbortController()
  const log = createLogger('cli')
  const removeHandlers = onShutdownSignals(shutdown, log)
  // A shutdown that hangs (a peer that never lets go) must not keep the process forever.
  shutdown.signal.addEventListener('abort', () => {
    setTimeout(() => {
      log.error(`shutdown took over ${SHUTDOWN_TIMEOUT_MS / 1000} s; exiting`)
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS).unref()
  })
  try {
    // Loaded here: libp2p and the protocols take a while to import, and only the daemon needs them.
    const { startDaemon } = await import('../../node/daemon.ts')
    const { daemonExtensions } = await import('../../node/daemon-extensions.ts')
    const daemon = await startDaemon({
      home,
      cacheDir: resolveHubCacheDir(),
      config,
      shutdown,
      extensions: daemonExtensions,
    })
    printStarted(await daemonStatus(daemon.parts))
    await daemon.stopped
  } catch (err) {
    if (!(err instanceof AlreadyRunningError)) throw err
    await printIfRunning(home)
  } finally {
    removeHandlers()
  }
  // Everything is closed; a handle left open by a library must not keep a stopped daemon alive.
  setTimeout(() => process.exit(), 200).unref()
}

/** `already running (pid, control URL)`; exit code 0: start is idempotent. */
async function printIfRunning(home: string): Promise<boolean> {
  const pid = await runningDaemonPid(home)
  if (pid === null) return false
  const info = await readDaemonInfo(home)
  const where =
    info !== null && info.pid === pid ? `, control ${info.controlUrl}, peer id ${info.peerId}` : ', starting'
  console.log(`already running (pid ${pid}${where})`)
  return true
}

/** A bad `--gateway-listen` is a usage error (exit 2), told before anything starts. */
function checkGatewayListen(values: string[] = []): void {
  for (const v of values) {
    if (parseGatewayListenAddress(String(v)) === null)
      throw new UsageError(`--gateway-listen: "${v}" is not HOST:PORT (e.g. 0.0.0.0:8080 or [::]:8080)`)
  }
}

function forwardedFlags(args: StartOptions, config: NodeConfig): string[] {
  const out: string[] = []
  if (args.port !== undefined) out.push('--port', String(args.port))
  for (const l of args.listen ?? []) out.push('--listen', l)
  for (const b of args.bootstrap ?? []) out.push('--bootstrap', b)
  if (args.mdns !== undefined) out.push(args.mdns ? '--mdns' : '--no-mdns')
  if (args.maxUploadRate !== undefined) out.push('--max-upload-rate', String(args.maxUploadRate))
  if (args.maxDownloadRate !== undefined) out.push('--max-download-rate', String(args.maxDownloadRate))
  for (const g of args.gatewayListen ?? []) out.push('--gateway-listen', g)
  // Absolute: the daemon may not run in this directory.
  if (args.swarmKey !== undefined && config.swarmKey !== undefined) out.push('--swarm-key', config.swarmKey)
  for (const r of args.relay ?? []) out.push('--relay', r)
  if (args.relayServer !== undefined) out.push(args.relayServer ? '--relay-server' : '--no-relay-server')
  return out
}

function printStarted(status: DaemonStatus, logPath?: string): void {
  console.log(`started (pid ${status.pid})`)
  console.log(`peer id    ${status.peerId}`)
  console.log(`control    ${status.controlUrl}`)
  for (const addr of status.listen) console.log(`listening  ${addr}`)
  for (const url of status.gateway ?? []) console.log(`gateway    ${url}`)
  if (logPath !== undefined) console.log(`log        ${logPath}`)
}
