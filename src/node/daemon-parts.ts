import type { ChunkCache } from '../store/chunk-cache/chunk-cache.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import type { CacheIndexer } from './cache-indexer.ts'
import type { ContentAnnouncer } from './content-announcer.ts'
import type { ControlServer } from './control-server.ts'
import type { HffsLibp2p, ServiceFactory } from './libp2p-node.ts'
import type { LoggerFactory } from './logger.ts'
import type { NodeConfig } from './node-config.ts'
import type { PeerBook } from './peer-book.ts'
import type { TransferRegistry } from './transfer-registry.ts'
import type { PeerTrust } from './trust.ts'

/** What exists before the libp2p node is made: enough to build the wire protocols' services. */
export interface DaemonServiceContext {
  home: string
  /** The Hugging Face hub cache this daemon shares. */
  cacheDir: string
  config: NodeConfig
  index: ShardIndex
  chunkCache: ChunkCache
  transfers: TransferRegistry
  /** Which peers are trusted: all of them in a private swarm, else those added with `peer add --trust`. */
  trust: PeerTrust
  logger: LoggerFactory
  /** Aborted when the daemon begins to shut down. */
  signal: AbortSignal
}

/** Everything a running daemon is made of; extensions get it in start(). */
export interface DaemonParts extends DaemonServiceContext {
  libp2p: HffsLibp2p
  peers: PeerBook
  /** DHT provider records: provideBlob(etag), findBlobProviders(etag, { signal }). */
  content: ContentAnnouncer
  indexer: CacheIndexer
  /** The control API; add routes with control.route(method, path, handler). */
  control: ControlServer
  /** Where the HF-compatible gateway answers (`http://host:port`); the gateway adds its listeners here. */
  gatewayUrls: string[]
  startedAt: Date
  /** Begins a graceful shutdown (what POST /v1/stop and SIGTERM do). */
  stop(): void
}

/**
 * A piece the daemon runs besides its own: the wire protocols, the download engine, the gateway. The
 * daemon calls services() before making the libp2p node, start() once everything listens, and stop()
 * first at shutdown, in reverse order of start.
 */
export interface DaemonExtension {
  name: string
  services?(ctx: DaemonServiceContext): Record<string, ServiceFactory>
  start?(parts: DaemonParts): void | Promise<void>
  stop?(): void | Promise<void>
}
