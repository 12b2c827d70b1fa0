import { validateEtag, validateRefName, validateRepo, type RepoRef } from '../../store/hf-cache/index.ts'
import { initXet, type ChunkRef } from '../../store/xet/index.ts'
import { MESSAGE_TIMEOUT } from '../wire/constants.ts'
import { NotFoundError } from '../wire/errors.ts'
import { FramedStream } from '../wire/framed-stream.ts'
import { ProtocolService } from '../wire/protocol-service.ts'
import {
  MANIFEST_PAGE_CHUNKS,
  MANIFEST_PROTOCOL,
  MAX_INBOUND_STREAMS,
  MAX_IN_FLIGHT_PER_PEER,
  MAX_LISTING_BYTES,
  MAX_LISTING_FILES,
  MAX_MANIFEST_CHUNKS,
  MAX_OUTBOUND_STREAMS,
  MAX_REQUEST_BYTES,
} from './constants.ts'
import { BadManifestError } from './errors.ts'
import {
  MAX_PAGE_MESSAGE_BYTES,
  decodeListing,
  decodeManifestHeader,
  decodeManifestPage,
  decodeRequest,
  encodeListing,
  encodeManifestHeader,
  encodeManifestPage,
  encodeNotFound,
  encodeRequest,
} from './messages.ts'
import { checkManifestHeader, verifyManifest } from './verify-manifest.ts'
import type { FetchManifestOptions, ManifestProtocol, ManifestProtocolInit } from './index.ts'
import type { BlobManifest, SnapshotListing } from '../sources.ts'
import type { ProtocolComponents } from '../wire/components.ts'
import type { AbortOptions, Connection, DialTarget, Stream } from '@libp2p/interface'

// Pages the client may hold unread while the server streams ahead of it (~9 MiB).
const PAGES_AHEAD = 16

export class DefaultManifestProtocol extends ProtocolService implements ManifestProtocol {
  private readonly init: ManifestProtocolInit
  private readonly messageTimeout: number
  private readonly maxListingBytes: number
  private readonly maxListingFiles: number
  private readonly maxManifestChunks: number

  constructor(components: ProtocolComponents, init: ManifestProtocolInit) {
    super(components, {
      protocol: MANIFEST_PROTOCOL,
      component: 'hffs:manifest',
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: init.runOnLimitedConnection,
      maxInFlightPerPeer: MAX_IN_FLIGHT_PER_PEER,
      requestLimits: init.requestLimits,
      bans: init.bans,
    })
    this.init = init
    this.messageTimeout = init.messageTimeout ?? MESSAGE_TIMEOUT
    this.maxListingBytes = init.maxListingBytes ?? MAX_LISTING_BYTES
    this.maxListingFiles = init.maxListingFiles ?? MAX_LISTING_FILES
    this.maxManifestChunks = init.maxManifestChunks ?? MAX_MANIFEST_CHUNKS
  }

  async fetchSnapshot(
    peer: DialTarget,
    repo: RepoRef,
    revision: string,
    options: AbortOptions = {},
  ): Promise<SnapshotListing> {
    validateRepo(repo)
    validateRefName(revision)
    const framing = { maxMessageBytes: this.maxListingBytes, messageTimeout: this.messageTimeout }
    return await this.exchange(peer, framing, options.signal, async (framed, remotePeer) => {
      await framed.write(
        encodeRequest({ type: 'snapshot', repoType: repo.type, repoId: repo.id, revision }),
        options,
      )
      const listing = decodeListing(await framed.read(options), this.maxListingFiles)
      if (listing === null) {
        throw new NotFoundError(`${remotePeer} does not know ${repo.type}/${repo.id}@${revision}`)
      }
      return listing
    })
  }

  async fetchManifest(
    peer: DialTarget,
    etag: string,
    options: FetchManifestOptions = {},
  ): Promise<BlobManifest> {
    validateEtag(etag)
    await initXet()
    const framing = {
      maxMessageBytes: MAX_PAGE_MESSAGE_BYTES,
      maxBufferedBytes: MAX_PAGE_MESSAGE_BYTES * PAGES_AHEAD,
      messageTimeout: this.messageTimeout,
    }
    return await this.exchange(peer, framing, options.signal, async (framed, remotePeer) => {
      const from = remotePeer.toString()
      await framed.write(encodeRequest({ type: 'manifest', etag }), options)
      const header = decodeManifestHeader(await framed.read(options), this.maxManifestChunks)
      if (header === null) throw new NotFoundError(`${from} has no manifest for ${etag}`)
      checkManifestHeader(from, etag, header)
      const chunks: ChunkRef[] = []
      while (chunks.length < header.chunkCount) {
        const page = decodeManifestPage(await framed.read(options))
        if (chunks.length + page.length > header.chunkCount) {
          throw new BadManifestError(from, `more entries than the ${header.chunkCount} announced`)
        }
        for (const chunk of page) chunks.push(chunk)
      }
      return verifyManifest(from, header, chunks, options.xetHash)
    })
  }

  protected async handleStream(stream: Stream, connection: Connection): Promise<void> {
    const framed = new FramedStream(stream, {
      maxMessageBytes: MAX_REQUEST_BYTES,
      messageTimeout: this.messageTimeout,
    })
    const request = decodeRequest(await framed.read())
    if (request.type === 'snapshot') {
      const { repoType, repoId, revision } = request
      const { snapshots } = this.init
      const allowed = snapshots.mayServe?.(repoType, repoId, connection.remotePeer.toString()) ?? true
      // A repo we may not serve to this peer is answered like one we do not have.
      const listing = allowed ? await snapshots.getSnapshot(repoType, repoId, revision) : null
      await framed.write(listing === null ? encodeNotFound() : encodeListing(listing))
    } else {
      const { manifests } = this.init
      const allowed = manifests.mayServeManifest?.(request.etag, connection.remotePeer.toString()) ?? true
      const manifest = allowed ? await manifests.getManifest(request.etag) : null
      if (manifest === null) {
        await framed.write(encodeNotFound())
      } else {
        await framed.write(encodeManifestHeader(manifest))
        for (let at = 0; at < manifest.chunks.length; at += MANIFEST_PAGE_CHUNKS) {
          await framed.write(encodeManifestPage(manifest.chunks.slice(at, at + MANIFEST_PAGE_CHUNKS)))
        }
      }
    }
    await framed.close()
  }
}
