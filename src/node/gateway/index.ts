import { randomBytes } from 'node:crypto'
import type { ChunksProtocol } from '../../protocols/chunks/index.ts'
import { hubConfigFromEnv, type HubConfig } from '../../protocols/hub/hub-config.ts'
import type { FetchLike } from '../../protocols/hub/hub-request.ts'
import type { ManifestProtocol } from '../../protocols/manifest/index.ts'
import type { RepoType } from '../../store/hf-cache/index.ts'
import { ControlServer, type ControlRequest } from '../control-server.ts'
import type { DaemonExtension, DaemonParts } from '../daemon-parts.ts'
import { peerSource, snapshotFromPeers, type SwarmServices } from '../peer-sources.ts'
import { DownloadsInProgress } from '../pull/downloads-in-progress.ts'
import { BlobPulls, type SwarmPullOptions } from './blob-pulls.ts'
import type { GatewayParts } from './gateway-parts.ts'
import { GatewayError, hubRoute } from './hub-answer.ts'
import { offlineAccessDenial } from './offline-access.ts'
import { SnapshotKnowledge } from './known-snapshot.ts'
import { parseGatewayListenAddress } from './listen-address.ts'
import { ListingMemo } from './listing-memo.ts'
import { handlePathsInfo } from './paths-info-route.ts'
import { RepoAccessBook, repoAccessPath } from './repo-access.ts'
import { parseRepoPath, repoTypeOf, type RepoPath } from './repo-path.ts'
import { handleResolve } from './resolve-route.ts'
import { handleRevision } from './revision-route.ts'
import { handleTree } from './tree-route.ts'
import { Upstream } from './upstream.ts'

export interface GatewayInit {
  /** The upstream Hub or mirror; default hubConfigFromEnv() of the daemon (HF_ENDPOINT, HF_HUB_OFFLINE). */
  hub?: HubConfig
  fetch?: FetchLike
  /** How long to wait for the upstream's response headers; default UPSTREAM_HEADERS_TIMEOUT_MS (5 s). */
  upstreamTimeoutMs?: number
  /**
   * What the swarm adds to every pull it runs (its peer list with bans, downloads in progress served to
   * peers, the download rate cap, the Hub-fetch election); the gateway's pulls take them too. Default: the
   * connected peers, and a registry of downloads in progress of the gateway's own.
   */
  swarmPull?: (signal: AbortSignal) => SwarmPullOptions
}

type Handler = (gw: GatewayParts, req: ControlRequest, at: RepoPath) => Promise<void>

/**
 * The HF-compatible gateway on the daemon's port: with `HF_ENDPOINT=http://127.0.0.1:PORT` (or `hubUrl`)
 * unmodified clients download through the node, which serves from its cache, pulls from the swarm, and
 * falls back to the upstream Hub for metadata and for what no peer has. Routes are open (no control token),
 * like the Hub's; the port is on 127.0.0.1, and `gatewayListen` (`--gateway-listen HOST:PORT`) adds
 * listeners that serve these routes only.
 */
export function gatewayExtension(init: GatewayInit = {}): DaemonExtension {
  let extra: ControlServer[] = []
  let access: RepoAccessBook | null = null
  let pulls: BlobPulls | null = null
  return {
    name: 'gateway',
    async start(parts) {
      const gw = gatewayParts(parts, init)
      access = gw.access
      pulls = gw.pulls
      // `--gateway-listen`: servers of their own that carry the gateway's routes and nothing else, so that
      // widening the gateway never exposes the control API (a control path there is a plain 404). Their
      // token guards nothing (no route there asks for one) and is never written anywhere.
      extra = (parts.config.gatewayListen ?? []).map(
        () => new ControlServer({ token: randomBytes(32).toString('hex'), logger: parts.logger('gateway') }),
      )
      for (const server of [parts.control, ...extra]) addGatewayRoutes(server, gw)
      try {
        for (const [i, text] of (parts.config.gatewayListen ?? []).entries()) {
          const { host, port } = parseGatewayListenAddress(text) ?? { host: text, port: -1 }
          await extra[i].listen(port, { host, what: 'gateway port', flag: '--gateway-listen' })
        }
      } catch (err) {
        await closeAll(extra)
        throw err
      }
      parts.gatewayUrls.push(parts.control.url, ...extra.map((s) => s.url))
      gw.log.info(
        `serving the Hub's download API on ${parts.gatewayUrls.join(' ')}, upstream ${gw.upstream.endpoint}`,
      )
    },
    async stop() {
      await closeAll(extra)
      extra = []
      await pulls?.settled()
      await access?.flushed()
    },
  }
}

async function closeAll(servers: ControlServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.close()))
}

/** The Hub's download routes, open (no control token) like the Hub's. */
function addGatewayRoutes(server: ControlServer, gw: GatewayParts): void {
  const on = (
    method: string,
    path: string,
    handler: Handler,
    shape: Omit<Shape, 'type'> & { type?: RepoType },
  ): void => {
    server.route(
      method,
      path,
      hubRoute(gw.log, (req) => {
        const type = shape.type ?? repoTypeOf(req.params.types)
        const at = parseRepoPath({
          path: req.path,
          type,
          skip: shape.skip,
          idLength: shape.idLength,
          needsRevision: shape.needsRevision,
        })
        return handler(gw, req, at).catch((err: unknown) => {
          // Nothing known to answer with, for a repo the upstream showed as gated or private: say that (the
          // Hub's 401), not "unreachable", so a client does not fall back to what it may not have.
          const access = gw.access.get(at.repo)
          if (
            err instanceof GatewayError &&
            err.status === 504 &&
            (access === 'gated' || access === 'private')
          )
            throw offlineAccessDenial({ repo: at.repo, access, loopback: false, origin: 'peer' }) ?? err
          throw err
        })
      }),
      { auth: false },
    )
  }
  // File routes: datasets and spaces before models, whose `/{org}/{name}/...` would match them too.
  for (const [prefix, type] of [
    ['/datasets', 'dataset'],
    ['/spaces', 'space'],
    ['', 'model'],
  ] as const) {
    const skip = prefix === '' ? 0 : 1
    for (const method of ['HEAD', 'GET']) {
      on(method, `${prefix}/:org/:name/resolve/*`, handleResolve, {
        type,
        skip,
        idLength: 2,
        needsRevision: true,
      })
      on(method, `${prefix}/:name/resolve/*`, handleResolve, {
        type,
        skip,
        idLength: 1,
        needsRevision: true,
      })
    }
  }
  for (const [ids, idLength] of [
    ['/:org/:name', 2],
    ['/:name', 1],
  ] as const) {
    const api = `/api/:types${ids}`
    on('GET', api, handleRevision, { skip: 2, idLength, needsRevision: false })
    on('GET', `${api}/revision/*`, handleRevision, { skip: 2, idLength, needsRevision: true })
    on('GET', `${api}/tree/*`, handleTree, { skip: 2, idLength, needsRevision: true })
    on('POST', `${api}/paths-info/*`, handlePathsInfo, { skip: 2, idLength, needsRevision: true })
  }
}

interface Shape {
  type: RepoType
  skip: number
  idLength: 1 | 2
  needsRevision: boolean
}

function gatewayParts(parts: DaemonParts, init: GatewayInit): GatewayParts {
  const log = parts.logger('gateway')
  const upstream = new Upstream({
    config: init.hub ?? hubConfigFromEnv(),
    fetch: init.fetch,
    headersTimeoutMs: init.upstreamTimeoutMs,
  })
  // The swarm extension's wire protocols; without them the gateway is a caching proxy of the upstream.
  const services = parts.libp2p.services as Partial<SwarmServices>
  const swarm: SwarmServices | null =
    services.manifest !== undefined && services.chunks !== undefined
      ? { manifest: services.manifest as ManifestProtocol, chunks: services.chunks as ChunksProtocol }
      : null
  const knowledge = new SnapshotKnowledge({
    cacheDir: parts.cacheDir,
    index: parts.index,
    peerListing:
      swarm === null
        ? undefined
        : (repo, revision, signal) =>
            snapshotFromPeers(parts.libp2p.getPeers(), swarm, repo, revision, signal, (id) =>
              parts.trust.isTrusted(id),
            ),
  })
  const memo = new ListingMemo()
  const inProgress = new DownloadsInProgress()
  const pulls = new BlobPulls({
    cacheDir: parts.cacheDir,
    home: parts.home,
    index: parts.index,
    chunkCache: parts.chunkCache,
    upstream,
    memo,
    knowledge,
    peers: () => (swarm === null ? [] : parts.libp2p.getPeers().map((p) => peerSource(p, swarm))),
    fetch: init.fetch,
    transfers: parts.transfers,
    swarmPull: init.swarmPull ?? (() => ({ inProgress })),
    provide: (etag) => void parts.content.provideBlob(etag, { signal: parts.signal }).catch(() => {}),
    signal: parts.signal,
    log,
  })
  const access = new RepoAccessBook({ path: repoAccessPath(parts.home), log })
  return { cacheDir: parts.cacheDir, home: parts.home, upstream, memo, knowledge, pulls, access, log }
}
