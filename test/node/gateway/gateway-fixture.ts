import { request, type IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { startDaemon, type RunningDaemon } from '../../../src/node/daemon.ts'
import { gatewayExtension } from '../../../src/node/gateway/index.ts'
import { loggerFactory } from '../../../src/node/logger.ts'
import { loadNodeConfig } from '../../../src/node/node-config.ts'
import { swarmExtension } from '../../../src/node/swarm-extension.ts'

export interface InProcessGateway {
  daemon: RunningDaemon
  url: string
  cacheDir: string
  home: string
  stop(): Promise<void>
}

/** A daemon with the swarm and the gateway in this process, on 127.0.0.1, with `endpoint` as its upstream. */
export async function startInProcessGateway(
  dir: string,
  endpoint: string,
  options: { offline?: boolean; upstreamTimeoutMs?: number } = {},
): Promise<InProcessGateway> {
  const shutdown = new AbortController()
  const home = join(dir, 'home')
  const cacheDir = join(dir, 'hub-cache')
  const daemon = await startDaemon({
    home,
    cacheDir,
    config: await loadNodeConfig({
      home,
      flags: { port: 0, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false },
    }),
    shutdown,
    extensions: [
      swarmExtension(),
      gatewayExtension({
        hub: { endpoint, token: null, offline: options.offline ?? false },
        upstreamTimeoutMs: options.upstreamTimeoutMs,
      }),
    ],
    logger: loggerFactory({ sink: () => {} }),
  })
  return {
    daemon,
    url: daemon.info.controlUrl,
    cacheDir,
    home,
    stop: async () => {
      shutdown.abort()
      await daemon.stopped
    },
  }
}

export interface RawAnswer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/**
 * One request with node:http and exactly the given headers (no fetch defaults such as gzip), as
 * huggingface_hub sends it; redirects are not followed.
 */
export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}
