import { chunksProtocol, type ChunksProtocol } from '../protocols/chunks/index.ts'
import { haveProtocol, type HaveProtocol } from '../protocols/have/index.ts'
import { intentProtocol, type IntentProtocol } from '../protocols/intent/index.ts'
import type { PeerId } from '@libp2p/interface'
import type { HubConfig } from '../protocols/hub/hub-config.ts'
import type { ChunkSource } from '../protocols/sources.ts'
import { manifestProtocol, type ManifestProtocol } from '../protocols/manifest/index.ts'
import { validateRepo, type RepoRef } from '../store/hf-cache/index.ts'
import { HttpError } from './control-server.ts'
import type { DaemonExtension, DaemonParts } from './daemon-parts.ts'
import { createLocalSources } from './local-sources.ts'
import { peerSource, snapshotFromPeers, type SwarmServices } from './peer-sources.ts'
import { DownloadsInProgress } from './pull/downloads-in-progress.ts'
import { HubFetchCoordinator } from './pull/hub-fetch-coordinator.ts'
import { OpenBlobFiles } from '../store/open-blob-files.ts'
import { PeerBans } from './peer-bans.ts'
import { RateLimiter } from './rate-limiter.ts'
import { restrictedToTrusted } from './restricted-repos.ts'
import { pullSnapshot, type PullProgress } from './pull/pull-snapshot.ts'
import type { SwarmPullOptions } from './gateway/blob-pulls.ts'

/** What the CLI sends to POST /v1/models/add: the pull, and the Hub settings of the user's environment. */
export interface ModelAddRequest {
  repo: RepoRef
  revision: string
  files?: string[]
  include?: string[]
  exclude?: string[]
  hub: HubConfig
}

/** One line of the NDJSON answer. */
export type ModelAddEvent =
  | { type: 'progress'; progress: PullProgress }
  | { type: 'result'; result: Awaited<ReturnType<typeof pullSnapshot>> }
  | { type: 'error'; name: string; message: string }

const PROGRESS_EVERY_MS = 200
/** How long a peer that sent a bad chunk is left out. */
const BAN_MS = 10 * 60_000

/**
 * The swarm inside the daemon: serves this node's snapshots, manifests, have-maps and chunks over the wire
 * protocols, and pulls models for the CLI (POST /v1/models/add) from connected peers, the Hub filling in.
 */
export interface SwarmExtension extends DaemonExtension {
  /** What the swarm adds to a pull that another extension (the gateway) runs; null before start. */
  pullOptions(signal: AbortSignal): SwarmPullOptions
}

export function swarmExtension(): SwarmExtension {
  const inProgress = new DownloadsInProgress()
  const openFiles = new OpenBlobFiles()
  const bans = new PeerBans()
  let downloadCap = new RateLimiter(0)
  let coordinator: HubFetchCoordinator | null = null
  let running: { parts: DaemonParts; services: SwarmServices; swarm: SwarmState } | null = null
  return {
    name: 'swarm',
    pullOptions(signal) {
      return running === null ? {} : swarmPullOptions(running.parts, running.services, running.swarm, signal)
    },
    services(ctx) {
      const sources = createLocalSources({
        cacheDir: ctx.cacheDir,
        index: ctx.index,
        chunkCache: ctx.chunkCache,
        inProgress,
        openFiles,
      })
      // Gated and private repos only to trusted peers.
      const served = restrictedToTrusted(sources, {
        index: ctx.index,
        cacheDir: ctx.cacheDir,
        trust: ctx.trust,
      })
      // --max-upload-rate: every chunk served waits for its bytes in one bucket shared by all peers.
      const uploadCap = new RateLimiter(ctx.config.maxUploadRate)
      downloadCap = new RateLimiter(ctx.config.maxDownloadRate)
      const capped: ChunkSource = {
        readChunk: async (hash) => {
          const data = await sources.readChunk(hash)
          if (data !== null) await uploadCap.take(data.byteLength, ctx.signal)
          return data
        },
        readChunks: async (hashes, options) => {
          const found = await sources.readChunks(hashes, options)
          await uploadCap.take(
            found.reduce((sum, data) => sum + (data?.byteLength ?? 0), 0),
            ctx.signal,
          )
          return found
        },
      }
      coordinator = new HubFetchCoordinator(
        (etag) =>
          (ctx.index.verifiedFilesOf(etag).length > 0 && ctx.index.getManifest(etag) !== null) ||
          inProgress.manifest(etag) !== null,
      )
      // One ban list: a peer that floods one protocol is refused by all, and left out of our pulls.
      return {
        intent: intentProtocol({ board: coordinator, bans }),
        manifest: manifestProtocol({ snapshots: served, manifests: served, bans }),
        have: haveProtocol({ haves: sources, bans }),
        chunks: chunksProtocol({ chunks: capped, bans }),
      }
    },
    start(parts) {
      const intent = parts.libp2p.services.intent as IntentProtocol
      const services: SwarmServices = {
        manifest: parts.libp2p.services.manifest as ManifestProtocol,
        chunks: parts.libp2p.services.chunks as ChunksProtocol,
        have: parts.libp2p.services.have as HaveProtocol,
      }
      const swarm: SwarmState = {
        inProgress,
        bans,
        downloadCap,
        coordinator: coordinator as HubFetchCoordinator,
        intent,
      }
      running = { parts, services, swarm }
      parts.control.route('POST', '/v1/models/add', async (req) => {
        const body = parseAddRequest(await req.json())
        const res = req.res
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        const send = (e: ModelAddEvent): void => void res.write(`${JSON.stringify(e)}\n`)
        const signal = AbortSignal.any([req.signal, parts.signal])
        try {
          const swarm = {
            inProgress,
            bans,
            downloadCap,
            coordinator: coordinator as HubFetchCoordinator,
            intent,
          }
          const result = await pull(parts, services, swarm, body, signal, send)
          send({ type: 'result', result })
        } catch (err) {
          send({ type: 'error', name: (err as Error).name, message: (err as Error).message })
        }
        res.end()
      })
    },
    async stop() {
      await openFiles.close()
    },
  }
}

/** The swarm's shared state: what every pull on this node takes part in. */
interface SwarmState {
  inProgress: DownloadsInProgress
  bans: PeerBans
  downloadCap: RateLimiter
  coordinator: HubFetchCoordinator
  intent: IntentProtocol
}

/** What the swarm adds to a pull: peers (minus banned ones), in-progress serving, rate cap, Hub election. */
function swarmPullOptions(
  parts: DaemonParts,
  services: SwarmServices,
  swarm: SwarmState,
  signal: AbortSignal,
): SwarmPullOptions {
  const connected = (): ReturnType<DaemonParts['libp2p']['getPeers']> => parts.libp2p.getPeers()
  return {
    peers: () =>
      connected()
        .filter((p) => !swarm.bans.isBanned(p.toString()))
        .map((p) => peerSource(p, services)),
    self: parts.libp2p.peerId.toString(),
    inProgress: swarm.inProgress,
    beforeChunk: (bytes) => swarm.downloadCap.take(bytes, signal),
    hubGate: async (file, s) => {
      const peers = new Map(connected().map((p) => [p.toString(), p]))
      const decision = await swarm.coordinator.decide({
        etag: file.etag,
        size: file.size,
        self: parts.libp2p.peerId.toString(),
        peers: [...peers.keys()],
        ask: (peer, etag, ours, askSignal) =>
          swarm.intent.ask(peers.get(peer) as PeerId, etag, ours, { signal: askSignal }),
        signal: s,
      })
      return decision.action
    },
    hubDone: (etag) => swarm.coordinator.done(etag),
    onPeerDropped: (peer, err) => {
      // A peer that sent bytes that do not hash to what it promised is not asked again for a while.
      if ((err as Error).name === 'BadChunkError') swarm.bans.ban(peer, BAN_MS)
    },
    peerSnapshot: (repo, revision, s) =>
      snapshotFromPeers(connected(), services, repo, revision, s, (id) => parts.trust.isTrusted(id)),
  }
}

async function pull(
  parts: DaemonParts,
  services: SwarmServices,
  swarm: SwarmState,
  body: ModelAddRequest,
  signal: AbortSignal,
  send: (e: ModelAddEvent) => void,
): Promise<Awaited<ReturnType<typeof pullSnapshot>>> {
  const id = `pull-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`
  const end = parts.transfers.begin({
    id,
    direction: 'download',
    repo: `${body.repo.type}/${body.repo.id}`,
    etag: null,
    path: null,
    bytesTotal: null,
  })
  let last = 0
  const log = parts.logger('swarm')
  try {
    const connected = (): ReturnType<DaemonParts['libp2p']['getPeers']> => parts.libp2p.getPeers()
    const result = await pullSnapshot({
      config: body.hub,
      cacheDir: parts.cacheDir,
      home: parts.home,
      index: parts.index,
      chunkCache: parts.chunkCache,
      repo: body.repo,
      revision: body.revision,
      files: body.files,
      include: body.include,
      exclude: body.exclude,
      ...swarmPullOptions(parts, services, swarm, signal),
      signal,
      onNotice: (message) => log.info(`${body.repo.id}: ${message}`),
      onProgress: (p) => {
        // Called per chunk: the peer count (a walk over libp2p's connections) only when progress is sent.
        parts.transfers.update(id, { bytesDone: p.bytesDone, bytesTotal: p.bytesTotal })
        if (Date.now() - last >= PROGRESS_EVERY_MS) {
          last = Date.now()
          parts.transfers.update(id, { peers: connected().length })
          send({ type: 'progress', progress: { ...p } })
        }
      },
    })
    for (const f of result.files) {
      if (f.downloaded) void parts.content.provideBlob(f.etag, { signal: parts.signal }).catch(() => {})
    }
    return result
  } finally {
    end()
  }
}

function parseAddRequest(raw: unknown): ModelAddRequest {
  const b = raw as Partial<ModelAddRequest>
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string')
  if (typeof b !== 'object' || b === null || typeof b.revision !== 'string' || typeof b.repo !== 'object') {
    throw new HttpError(400, 'expected { repo: { type, id }, revision, hub, files?, include?, exclude? }')
  }
  const hub = b.hub as Partial<HubConfig> | undefined
  if (hub === undefined || typeof hub.endpoint !== 'string' || typeof hub.offline !== 'boolean') {
    throw new HttpError(400, 'expected hub: { endpoint, token, offline }')
  }
  for (const k of ['files', 'include', 'exclude'] as const) {
    if (b[k] !== undefined && !strings(b[k])) throw new HttpError(400, `${k} must be a list of strings`)
  }
  try {
    validateRepo(b.repo as RepoRef)
  } catch (err) {
    throw new HttpError(400, (err as Error).message)
  }
  return {
    repo: b.repo as RepoRef,
    revision: b.revision,
    files: b.files,
    include: b.include,
    exclude: b.exclude,
    hub: {
      endpoint: hub.endpoint,
      token: typeof hub.token === 'string' ? hub.token : null,
      offline: hub.offline,
    },
  }
}
