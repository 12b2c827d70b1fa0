import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlClient } from '../../src/node/control-client.ts'
import type { DaemonExtension } from '../../src/node/daemon-parts.ts'
import { startDaemon, type RunningDaemon } from '../../src/node/daemon.ts'
import { loggerFactory } from '../../src/node/logger.ts'
import type { NodeConfig } from '../../src/node/node-config.ts'

const quiet = loggerFactory({ sink: () => {} })

function config(extra: Partial<NodeConfig> = {}): NodeConfig {
  return {
    port: 0,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    chunkCacheBytes: 1_000_000,
    maxUploadRate: 0,
    maxDownloadRate: 0,
    ...extra,
  }
}

describe('daemon in process: extensions and bootstrap peers', function () {
  this.timeout(20_000)
  let root = ''
  const running: { daemon: RunningDaemon; shutdown: AbortController }[] = []

  async function start(
    name: string,
    cfg: NodeConfig,
    extensions: DaemonExtension[] = [],
  ): Promise<RunningDaemon> {
    const shutdown = new AbortController()
    const home = join(root, name)
    const daemon = await startDaemon({
      home,
      cacheDir: join(root, 'hub'),
      config: cfg,
      shutdown,
      extensions,
      logger: quiet,
    })
    running.push({ daemon, shutdown })
    return daemon
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hffs-inproc-'))
  })

  afterEach(async () => {
    for (const { daemon, shutdown } of running.splice(0)) {
      shutdown.abort()
      await daemon.stopped
    }
    await rm(root, { recursive: true, force: true })
  })

  it('runs an extension: its libp2p service, its control route, its stop at shutdown', async () => {
    const calls: string[] = []
    const ext: DaemonExtension = {
      name: 'echo',
      services: (ctx) => {
        calls.push(`services ${ctx.config.port}`)
        return {
          echo: () => ({
            start: () => void calls.push('service start'),
            stop: () => void calls.push('service stop'),
            greet: () => 'hi',
          }),
        }
      },
      start: (parts) => {
        calls.push('start')
        parts.control.route('GET', '/v1/echo', () => ({
          body: { peers: parts.peers.connectedPeers().length },
        }))
      },
      stop: () => void calls.push('stop'),
    }
    const daemon = await start('a', config(), [ext])
    const service = daemon.parts.libp2p.services.echo as { greet(): string }
    assert.equal(service.greet(), 'hi')
    const client = await ControlClient.connect(daemon.parts.home)
    assert.deepEqual(await client.call('GET', '/v1/echo'), { peers: 0 })
    await assert.rejects(start('a', config()), { name: 'AlreadyRunningError' })
    running[0].shutdown.abort()
    await daemon.stopped
    running.splice(0)
    assert.deepEqual(calls, ['services 0', 'service start', 'start', 'stop', 'service stop'])
    await assert.rejects(ControlClient.connect(daemon.parts.home), { name: 'NotRunningError' })
  })

  it('dials bootstrap peers at start and lists them as such', async () => {
    const b = await start('b', config())
    const bAddr = b.info.listen[0]
    const a = await start('a', config({ bootstrap: [bAddr] }))
    const bId = b.info.peerId
    let entry
    for (let i = 0; i < 50; i++) {
      entry = (await a.parts.peers.list()).find((p) => p.peerId === bId)
      if (entry?.connected === true) break
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.ok(entry?.connected, JSON.stringify(entry))
    assert.deepEqual(entry.sources, ['bootstrap'])
  })
})
