import type { AbortOptions, PeerInfo } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { scanHubCache } from '../store/hf-cache/index.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import {
  PROVIDE_CONCURRENCY,
  PROVIDE_INTERVAL_MS,
  PROVIDE_REFRESH_MS,
  PROVIDE_TIMEOUT_MS,
} from './constants.ts'
import { blobCid, snapshotCid } from './content-cid.ts'
import type { HffsLibp2p } from './libp2p-node.ts'
import { errorMessage, type Logger } from './logger.ts'

export interface ContentAnnouncerInit {
  node: HffsLibp2p
  index: ShardIndex
  cacheDir: string
  logger: Logger
  /** How often to look for records to provide; default PROVIDE_INTERVAL_MS (10 min). */
  intervalMs?: number
  /** A record provided longer ago than this is provided again; default PROVIDE_REFRESH_MS (12 h). */
  refreshMs?: number
  /** Provides in flight at most; default PROVIDE_CONCURRENCY (4). */
  concurrency?: number
  /** One provide gives up after this long; default PROVIDE_TIMEOUT_MS (30 s). */
  timeoutMs?: number
}

export interface AnnounceReport {
  provided: number
  failed: number
  /** Records not attempted because the DHT has no peers yet. */
  waiting: number
}

interface ContentKey {
  label: string
  cid: CID
}

/**
 * Puts DHT provider records for what this node can serve: every verified blob (`hffs:blob:<etag>`) and
 * every complete snapshot (`hffs:snapshot:<type>/<repo>@<commit>`). Rounds run after indexing and then
 * periodically; with no DHT peer a round waits for the first one. Failures are logged, never fatal.
 */
export class ContentAnnouncer {
  private readonly init: ContentAnnouncerInit
  private readonly log: Logger
  private readonly provided = new Map<string, number>()
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | null = null
  private round: Promise<AnnounceReport> | null = null
  private waitingForPeers = false
  private readonly onPeer = (): void => {
    if (!this.waitingForPeers || this.controller.signal.aborted) return
    this.waitingForPeers = false
    // Let identify finish and the DHT take the peer into its routing table first.
    setTimeout(() => void this.announceAll(), 2000).unref()
  }

  constructor(init: ContentAnnouncerInit) {
    this.init = init
    this.log = init.logger
  }

  start(): void {
    if (this.timer !== null || this.controller.signal.aborted) return
    this.timer = setInterval(() => void this.announceAll(), this.init.intervalMs ?? PROVIDE_INTERVAL_MS)
    this.timer.unref()
    this.init.node.addEventListener('peer:identify', this.onPeer)
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.init.node.removeEventListener('peer:identify', this.onPeer)
    this.controller.abort()
    await this.round
  }

  /** How many records were provided, for status. */
  providedCount(): number {
    return this.provided.size
  }

  /** Announces one blob now (e.g. right after a download completed). */
  async provideBlob(etag: string, options: AbortOptions = {}): Promise<void> {
    const cid = await blobCid(etag)
    await this.provide({ label: `blob ${etag}`, cid }, options.signal)
  }

  /** Peers that announced this blob, as the DHT finds them (never ourselves). */
  async *findBlobProviders(etag: string, options: AbortOptions = {}): AsyncGenerator<PeerInfo> {
    yield* this.findProviders(await blobCid(etag), options)
  }

  /** Peers that announced this snapshot. */
  async *findSnapshotProviders(
    repoType: string,
    repoId: string,
    commit: string,
    options: AbortOptions = {},
  ): AsyncGenerator<PeerInfo> {
    yield* this.findProviders(await snapshotCid(repoType, repoId, commit), options)
  }

  /** One round over everything this node holds; concurrent calls share the round in progress. */
  announceAll(): Promise<AnnounceReport> {
    this.round ??= this.runRound().finally(() => {
      this.round = null
    })
    return this.round
  }

  private async *findProviders(cid: CID, options: AbortOptions): AsyncGenerator<PeerInfo> {
    const self = this.init.node.peerId
    for await (const info of this.init.node.contentRouting.findProviders(cid, options)) {
      if (!info.id.equals(self)) yield info
    }
  }

  private async runRound(): Promise<AnnounceReport> {
    const report: AnnounceReport = { provided: 0, failed: 0, waiting: 0 }
    if (this.controller.signal.aborted) return report
    let keys: ContentKey[]
    try {
      keys = await this.collectKeys()
    } catch (err) {
      this.log.warn(`cannot list content to announce: ${errorMessage(err)}`)
      return report
    }
    const refreshMs = this.init.refreshMs ?? PROVIDE_REFRESH_MS
    const due = keys.filter((k) => Date.now() - (this.provided.get(k.cid.toString()) ?? 0) > refreshMs)
    if (due.length === 0) return report
    if (this.dhtPeers() === 0) {
      this.waitingForPeers = true
      report.waiting = due.length
      this.log.debug(`${due.length} provider records wait for a first DHT peer`)
      return report
    }
    const queue = [...due]
    const worker = async (): Promise<void> => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        if (this.controller.signal.aborted) return
        try {
          await this.provide(k)
          report.provided++
        } catch (err) {
          report.failed++
          if (!this.controller.signal.aborted)
            this.log.debug(`provide ${k.label} failed: ${errorMessage(err)}`)
        }
      }
    }
    const n = Math.min(this.init.concurrency ?? PROVIDE_CONCURRENCY, queue.length)
    await Promise.all(Array.from({ length: n }, worker))
    const line =
      `provided ${report.provided} of ${due.length} records` +
      (report.failed > 0 ? `, ${report.failed} failed` : '')
    if (report.failed > 0) this.log.warn(line)
    else this.log.info(line)
    return report
  }

  private async provide(key: ContentKey, signal?: AbortSignal): Promise<void> {
    const signals = [this.controller.signal, AbortSignal.timeout(this.init.timeoutMs ?? PROVIDE_TIMEOUT_MS)]
    if (signal !== undefined) signals.push(signal)
    await this.init.node.contentRouting.provide(key.cid, { signal: AbortSignal.any(signals) })
    this.provided.set(key.cid.toString(), Date.now())
  }

  /** Verified blobs from the index, and the snapshots all of whose files are verified blobs. */
  private async collectKeys(): Promise<ContentKey[]> {
    const { index, cacheDir } = this.init
    const verified = new Set<string>()
    for (const path of index.allBlobFilePaths()) {
      const f = index.getBlobFile(path)
      if (f !== null && f.status === 'ok') verified.add(f.etag)
    }
    const keys: ContentKey[] = []
    for (const etag of verified) keys.push({ label: `blob ${etag}`, cid: await blobCid(etag) })
    const scan = await scanHubCache(cacheDir).catch(() => null)
    for (const repo of scan?.repos ?? []) {
      for (const rev of repo.revisions) {
        if (!rev.files.every((f) => f.etag !== null && verified.has(f.etag))) continue
        keys.push({
          label: `snapshot ${repo.type}/${repo.id}@${rev.commit}`,
          cid: await snapshotCid(repo.type, repo.id, rev.commit),
        })
      }
    }
    return keys
  }

  private dhtPeers(): number {
    const dht = this.init.node.services.dht as unknown as { routingTable?: { size: number } }
    return dht.routingTable?.size ?? this.init.node.getPeers().length
  }
}
