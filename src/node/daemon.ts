import { loadRangeClient } from '../protocols/hub/range-request.ts'
import { ChunkCache } from '../store/chunk-cache/chunk-cache.ts'
import { ShardIndex } from '../store/index-db/shard-index.ts'
import { describeSettled, SETTLE_AFTER_MS, settleUnsyncedBlobs } from '../store/unsynced-blobs.ts'
import { CacheIndexer } from './cache-indexer.ts'
import { ContentAnnouncer } from './content-announcer.ts'
import { CONTROL_ERROR_STATUS, addControlRoutes } from './control-routes.ts'
import { ControlServer } from './control-server.ts'
import { loadOrCreateControlToken } from './control-token.ts'
import { removeDaemonInfo, writeDaemonInfo, type DaemonInfo } from './daemon-info.ts'
import { acquireDaemonLock } from './daemon-lock.ts'
import type { DaemonExtension, DaemonParts, DaemonServiceContext } from './daemon-parts.ts'
import { chunkCacheDir, indexPath } from './home.ts'
import { createHffsNode, type ServiceFactory } from './libp2p-node.ts'
import { errorMessage, loggerFactory, type LoggerFactory } from './logger.ts'
import type { NodeConfig } from './node-config.ts'
import { PeerBook } from './peer-book.ts'
import { relayPeerId, relayServerLimits } from './relay-config.ts'
import { RelayPeerFinder } from './relay-peer-finder.ts'
import { loadOrCreatePeerKey } from './peer-key.ts'
import { loadSwarmKey } from './swarm-key.ts'
import { TransferRegistry } from './transfer-registry.ts'
import { PeerTrust } from './trust.ts'

export interface StartDaemonParams {
  home: string
  cacheDir: string
  config: NodeConfig
  /** The one controller that drives shutdown: signals, POST /v1/stop and parts.stop() all abort it. */
  shutdown: AbortController
  extensions?: readonly DaemonExtension[]
  /** Default: timestamped lines on stderr (the daemon log when detached). */
  logger?: LoggerFactory
  /** First redial delay of kept peers (default 1 s); tests shorten it. */
  redialMinMs?: number
}

export interface RunningDaemon {
  parts: DaemonParts
  info: DaemonInfo
  /** Resolves once the shutdown that `shutdown.abort()` began has finished. */
  stopped: Promise<void>
}

/**
 * The composition root of the daemon: one per home (a lock), its identity, the shard index, the chunk
 * cache, libp2p with the extensions' services, the peer book, DHT records, and the control API. Indexing
 * the HF cache runs in the background; the control API answers meanwhile.
 */
export async function startDaemon(params: StartDaemonParams): Promise<RunningDaemon> {
  const { home, cacheDir, config, shutdown } = params
  const logger = params.logger ?? loggerFactory()
  const log = logger('daemon')
  const lock = await acquireDaemonLock(home)
  const undo: (() => Promise<void> | void)[] = [() => lock.release()]
  const teardown = async (): Promise<void> => {
    for (const step of undo.reverse()) {
      try {
        await step()
      } catch (err) {
        log.warn(`shutdown: ${errorMessage(err)}`)
      }
    }
  }
  try {
    log.info(`starting (pid ${process.pid}, home ${home}, cache ${cacheDir})`)
    const privateKey = await loadOrCreatePeerKey(home)
    const token = await loadOrCreateControlToken(home)
    const index = ShardIndex.open(indexPath(home))
    undo.push(() => index.close())
    // Blobs renamed into the cache before they were flushed (unsynced-blobs.ts): after a crash, they are
    // hashed again before anything is served; later, they are flushed once the kernel has written them.
    const settle = async (): Promise<void> => {
      for (const line of describeSettled(await settleUnsyncedBlobs(home))) log.warn(line)
    }
    await settle()
    let settling: Promise<void> | null = null
    const settler = setInterval(() => {
      settling ??= settle()
        .catch((err: unknown) => log.warn(`flushing blobs: ${errorMessage(err)}`))
        .finally(() => (settling = null))
    }, SETTLE_AFTER_MS)
    settler.unref()
    undo.push(async () => {
      clearInterval(settler)
      await settling
    })
    const chunkCache = await ChunkCache.open({ dir: chunkCacheDir(home), limitBytes: config.chunkCacheBytes })
    const transfers = new TransferRegistry()
    const trust = new PeerTrust({ privateSwarm: config.swarmKey !== undefined })
    const ctx: DaemonServiceContext = {
      home,
      cacheDir,
      config,
      index,
      chunkCache,
      transfers,
      trust,
      logger,
      signal: shutdown.signal,
    }
    const extensions = params.extensions ?? []
    const services: Record<string, ServiceFactory> = {}
    for (const ext of extensions) {
      for (const [name, factory] of Object.entries(ext.services?.(ctx) ?? {})) {
        if (name in services) throw new Error(`extension ${ext.name}: service "${name}" is already defined`)
        services[name] = factory
      }
    }
    const swarmKey = config.swarmKey === undefined ? undefined : await loadSwarmKey(config.swarmKey)
    const relays = config.relays ?? []
    const libp2p = await createHffsNode({
      privateKey,
      listen: config.listen,
      mdns: config.mdns,
      services,
      swarmKey,
      relays,
      relayServer: relayServerLimits(config),
    })
    undo.push(() => libp2p.stop())
    const peers = await PeerBook.open({
      node: libp2p,
      home,
      // Relays are kept connected like bootstrap peers, and bootstrap the DHT that finds the other sites.
      bootstrap: [...config.bootstrap, ...relays.filter((r) => !config.bootstrap.includes(r))],
      trust,
      logger: logger('peers'),
      redialMinMs: params.redialMinMs,
    })
    const content = new ContentAnnouncer({ node: libp2p, index, cacheDir, logger: logger('dht') })
    const indexer = new CacheIndexer({ cacheDir, index, logger: logger('indexer') })
    const control = new ControlServer({ token, logger: logger('control'), errorStatus: CONTROL_ERROR_STATUS })
    const parts: DaemonParts = {
      ...ctx,
      libp2p,
      peers,
      content,
      indexer,
      control,
      gatewayUrls: [],
      startedAt: new Date(),
      stop: () => shutdown.abort(),
    }
    addControlRoutes(control, parts)
    await control.listen(config.port)
    undo.push(() => control.close())
    // Indexing and the first announcements; shutdown aborts them and waits here, before the index closes.
    let background: Promise<unknown> = Promise.resolve()
    undo.push(() => background.then(() => {}))
    peers.start()
    undo.push(() => peers.stop())
    content.start()
    undo.push(() => content.stop())
    if (relays.length > 0) {
      const finder = new RelayPeerFinder({
        node: libp2p,
        relayPeerIds: relays.map(relayPeerId),
        logger: logger('relay'),
      })
      finder.start()
      undo.push(() => finder.stop())
    }
    for (const ext of extensions) {
      await ext.start?.(parts)
      if (ext.stop !== undefined) undo.push(() => ext.stop?.())
    }
    // The Hub client's HTTP library, loaded lazily by commands, is loaded now by a daemon that will use it:
    // otherwise its first pull paid for it (~90 ms of CPU on the event loop, in a leecher's profile).
    await loadRangeClient()
    // Index, then announce, in the background: the control API answers meanwhile.
    background = indexer.run(shutdown.signal).then(() => content.announceAll())
    const info: DaemonInfo = {
      pid: process.pid,
      port: control.port,
      controlUrl: control.url,
      peerId: libp2p.peerId.toString(),
      listen: libp2p.getMultiaddrs().map((m) => m.toString()),
      gateway: parts.gatewayUrls,
      startedAt: parts.startedAt.toISOString(),
    }
    await writeDaemonInfo(home, info)
    undo.push(() => removeDaemonInfo(home, process.pid))
    log.info(
      `ready: peer id ${info.peerId}, control ${info.controlUrl}, listening on ${info.listen.join(' ')}` +
        (swarmKey === undefined ? '' : ' (private swarm: only holders of the swarm key can connect)'),
    )
    const stopped = new Promise<void>((resolve) => {
      const onAbort = (): void => {
        log.info('stopping')
        void teardown().then(() => {
          log.info('stopped')
          resolve()
        })
      }
      if (shutdown.signal.aborted) onAbort()
      else shutdown.signal.addEventListener('abort', onAbort, { once: true })
    })
    return { parts, info, stopped }
  } catch (err) {
    await teardown()
    throw err
  }
}
