import type { ChunkCache } from '../../store/chunk-cache/chunk-cache.ts'
import { repoFolderName, writeRef, type RepoRef } from '../../store/hf-cache/index.ts'
import type { ShardIndex } from '../../store/index-db/shard-index.ts'
import { hashToHex } from '../../store/xet/index.ts'
import type { FetchLike } from '../../protocols/hub/hub-request.ts'
import type { BlobManifest } from '../../protocols/sources.ts'
import { errorMessage, type Logger } from '../logger.ts'
import type { PeerSource } from '../pull/peer-source.ts'
import { pullSnapshot, type PullResult, type PullSnapshotParams } from '../pull/pull-snapshot.ts'
import type { TransferRegistry } from '../transfer-registry.ts'
import type { FileMeta } from './file-meta.ts'
import type { SnapshotKnowledge } from './known-snapshot.ts'
import type { ListingMemo } from './listing-memo.ts'
import type { Upstream } from './upstream.ts'

/** One blob on its way into the node's cache, which any number of GETs may follow. */
export interface BlobPull {
  readonly repo: RepoRef
  readonly etag: string
  readonly size: number
  /** Date.now() when it began: a resume file older than this is not this pull's. */
  readonly startedAt: number
  state: 'running' | 'done' | 'failed'
  error: Error | null
  /** The chunk list a peer gave (the bytes arrive by chunk, each verifiable); null on the Hub path. */
  manifest: BlobManifest | null
  /** Resolves at the next sign of progress. */
  changed(): Promise<void>
}

export interface BlobPullsInit {
  cacheDir: string
  home: string
  index?: ShardIndex
  chunkCache?: ChunkCache
  upstream: Upstream
  memo: ListingMemo
  knowledge: SnapshotKnowledge
  /** The connected peers, as the download engine sees them. */
  peers: () => PeerSource[]
  fetch?: FetchLike
  transfers?: TransferRegistry
  /** The swarm's own options for a pull (see GatewayInit.swarmPull); they override the defaults above. */
  swarmPull?: (signal: AbortSignal) => SwarmPullOptions
  /** Tells the DHT this node now has the blob. */
  provide?: (etag: string) => void
  /** Aborts every pull: the daemon is shutting down. */
  signal: AbortSignal
  log: Logger
}

/** What the swarm extension adds to each pull it runs. */
export type SwarmPullOptions = Partial<
  Pick<
    PullSnapshotParams,
    'peers' | 'self' | 'peerSnapshot' | 'inProgress' | 'hubGate' | 'hubDone' | 'beforeChunk' | 'onPeerDropped'
  >
>

export interface StartPullParams {
  repo: RepoRef
  /** The revision the client asked for; a branch is written to `refs/` once the blob is in. */
  revision: string
  meta: FileMeta
  authorization: string | null
}

/**
 * The pulls the gateway runs: one per blob however many clients want it, through the swarm into the node's
 * own HF cache (peers first, the upstream filling in or serving what no peer has), with the client's token
 * for the upstream. A pull outlives the request that started it: the blob is wanted, and shared afterwards.
 */
export class BlobPulls {
  private readonly init: BlobPullsInit
  private readonly running = new Map<string, BlobPull>()
  /** Every pull under way, until it has settled (written its blob, or given up). */
  private readonly underWay = new Set<Promise<void>>()

  constructor(init: BlobPullsInit) {
    this.init = init
  }

  /** The pull of this blob, started now or already under way. */
  start(params: StartPullParams): BlobPull {
    const { repo, meta } = params
    const key = `${repoFolderName(repo)}/${meta.etag}`
    const existing = this.running.get(key)
    if (existing !== undefined) return existing
    let waiters: (() => void)[] = []
    const notify = (): void => {
      const woken = waiters
      waiters = []
      for (const w of woken) w()
    }
    const pull: BlobPull = {
      repo,
      etag: meta.etag,
      size: meta.size,
      startedAt: Date.now(),
      state: 'running',
      error: null,
      manifest: null,
      changed: () => new Promise<void>((resolve) => waiters.push(resolve)),
    }
    const onManifest = (m: BlobManifest): void => {
      if (pull.manifest !== null || m.etag !== meta.etag || m.size !== meta.size) return
      if (meta.xetHash !== null && hashToHex(m.xetHash) !== meta.xetHash) return
      pull.manifest = m
      notify()
    }
    this.running.set(key, pull)
    const settled = this.run(params, onManifest, notify)
      .then(
        (result) => {
          pull.state = 'done'
          const how =
            result.files[0]?.source === 'cache'
              ? 'was in the cache'
              : `${result.bytesFromPeers} bytes from peers, ${result.bytesFromHub} from the upstream`
          this.init.log.info(`${repo.id}/${meta.path}: ${how}`)
        },
        (err: unknown) => {
          pull.state = 'failed'
          pull.error = err instanceof Error ? err : new Error(String(err))
          this.init.log.warn(`${repo.id}/${meta.path}: ${errorMessage(err)}`)
        },
      )
      .finally(() => {
        this.running.delete(key)
        this.underWay.delete(settled)
        notify()
      })
    this.underWay.add(settled)
    return pull
  }

  /**
   * Resolves once every pull under way has settled. The daemon's shutdown signal aborts them; this waits
   * for the end of each (a blob being renamed into place, its index rows), so that nothing writes to the
   * cache or the index after the daemon has stopped.
   */
  async settled(): Promise<void> {
    while (this.underWay.size > 0) await Promise.allSettled([...this.underWay])
  }

  private async run(
    params: StartPullParams,
    onManifest: (m: BlobManifest) => void,
    notify: () => void,
  ): Promise<PullResult> {
    const { init } = this
    const { repo, meta } = params
    const id = `gateway-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
    const end = init.transfers?.begin({
      id,
      direction: 'download',
      repo: `${repo.type}/${repo.id}`,
      etag: meta.etag,
      path: meta.path,
      bytesTotal: meta.size,
    })
    const swarm = init.swarmPull?.(init.signal) ?? {}
    const peers = swarm.peers ?? init.peers
    try {
      const result = await pullSnapshot({
        ...swarm,
        config: {
          endpoint: init.upstream.endpoint,
          token: bearerToken(params.authorization),
          // Metadata that came from the node's knowledge means the upstream is not to be waited on.
          offline: meta.source !== 'upstream' || !init.upstream.usable(),
        },
        cacheDir: init.cacheDir,
        home: init.home,
        index: init.index,
        chunkCache: init.chunkCache,
        repo,
        revision: meta.commit,
        files: [meta.path],
        inOrder: true, // the client reads it as it arrives
        peers: () => peers().map((p) => capturingManifest(p, onManifest)),
        peerSnapshot: swarm.peerSnapshot ?? ((r, rev, signal) => init.knowledge.peerListing(r, rev, signal)),
        fetch: init.memo.fetchWith(init.fetch ?? fetch, params.authorization),
        signal: init.signal,
        onProgress: (p) => {
          if (end !== undefined)
            init.transfers?.update(id, { bytesDone: p.bytesDone, peers: init.peers().length })
          notify()
        },
        onNotice: (message) => init.log.info(`${repo.id}: ${message}`),
      })
      const file = result.files[0]
      if (file?.downloaded === true) init.provide?.(file.etag)
      // The snapshot folder exists now: the branches that point at it may be written in `refs/`.
      init.knowledge.learnRef(repo, params.revision, meta.commit)
      for (const name of init.knowledge.refsTo(repo, meta.commit)) {
        await writeRef(init.cacheDir, repo, name, meta.commit).catch(() => {})
      }
      return result
    } finally {
      end?.()
    }
  }
}

/** The token of a `Bearer` Authorization header, which the download engine sends on as its own. */
export function bearerToken(authorization: string | null): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')
  return m === null ? null : m[1]
}

/**
 * A peer whose manifests are seen by the gateway too: they tell it how to verify bytes as they land. Every
 * other member is the peer's own (through the prototype), so what the engine asks of peers later (have-maps
 * today) passes through unchanged.
 */
function capturingManifest(peer: PeerSource, onManifest: (m: BlobManifest) => void): PeerSource {
  const wrapped = Object.create(peer) as PeerSource
  wrapped.fetchManifest = async (etag, options) => {
    const m = await peer.fetchManifest(etag, options)
    if (m !== null) onManifest(m)
    return m
  }
  return wrapped
}
