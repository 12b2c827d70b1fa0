/**
 * A daemon with the swarm and the gateway, as `hffs-node start --foreground` runs one once the gateway is
 * among its extensions: `node test/node/gateway/hffs-node-gateway-daemon.ts` with HFFS_HOME, HF_HUB_CACHE and
 * HF_ENDPOINT in its environment, on 127.0.0.1 only (any free ports, no mDNS). It logs to stderr, prints
 * its daemon info as one JSON line on stdout once ready, and stops on SIGTERM.
 */
import { startDaemon } from '../../../src/node/daemon.ts'
import { gatewayExtension } from '../../../src/node/gateway/index.ts'
import { resolveNodeHome } from '../../../src/node/home.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { loadNodeConfig } from '../../../src/node/node-config.ts'
import { onShutdownSignals } from '../../../src/node/process-signals.ts'
import { swarmExtension } from '../../../src/node/swarm-extension.ts'
import { resolveHubCacheDir } from '../../../src/store/hf-cache/index.ts'

const home = resolveNodeHome()
const config = await loadNodeConfig({
  home,
  flags: { port: 0, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false },
})
const shutdown = new AbortController()
const removeHandlers = onShutdownSignals(shutdown, createLogger('gateway-daemon'))
shutdown.signal.addEventListener('abort', () => setTimeout(() => process.exit(1), 10_000).unref())
const daemon = await startDaemon({
  home,
  cacheDir: resolveHubCacheDir(),
  config,
  shutdown,
  extensions: [swarmExtension(), gatewayExtension()],
})
process.stdout.write(`${JSON.stringify(daemon.info)}\n`)
await daemon.stopped
removeHandlers()
setTimeout(() => process.exit(0), 200).unref()
