import type { PeerId } from '@libp2p/interface'
import type { ChunksProtocol } from '../protocols/chunks/index.ts'
import type { HaveProtocol } from '../protocols/have/index.ts'
import type { ManifestProtocol } from '../protocols/manifest/index.ts'
import type { SnapshotListing } from '../protocols/sources.ts'
import type { RepoRef } from '../store/hf-cache/index.ts'
import { hexToHash } from '../store/xet/index.ts'
import type { PeerSource } from './pull/peer-source.ts'
import { UntrustedListingError } from './trust.ts'

export interface SwarmServices {
  manifest: ManifestProtocol
  chunks: ChunksProtocol
  have?: HaveProtocol
}

/** A connected peer as the download engine sees it, over the manifest and chunks protocols. */
export function peerSource(
  peer: PeerId,
  services: SwarmServices,
  xetHashes?: Map<string, string>,
): PeerSource {
  return {
    id: peer.toString(),
    async fetchManifest(etag, { signal }) {
      const known = xetHashes?.get(etag)
      try {
        return await services.manifest.fetchManifest(peer, etag, {
          signal,
          xetHash: known === undefined ? undefined : hexToHash(known),
        })
      } catch (err) {
        if ((err as Error).name === 'NotFoundError') return null
        throw err
      }
    },
    fetchChunks(hashes, { signal, verify }) {
      return services.chunks.fetchChunks(peer, hashes, { signal, verify })
    },
    async subscribeHave(etag, { signal }) {
      if (services.have === undefined) return null
      try {
        const sub = await services.have.subscribeHave(peer, etag, { signal })
        return { has: (i) => sub.has(i), updates: sub, close: () => sub.close() }
      } catch (err) {
        if ((err as Error).name === 'NotFoundError') return 'none'
        return null
      }
    },
  }
}

/**
 * Asks peers, one after another, for the listing of repo@revision; the first trusted one that knows it
 * answers. Peers that fail or do not know it are skipped. Untrusted peers are asked only when no trusted
 * one knows it, and only to say so: their listing is refused with an UntrustedListingError.
 */
export async function snapshotFromPeers(
  peers: readonly PeerId[],
  services: SwarmServices,
  repo: RepoRef,
  revision: string,
  signal: AbortSignal | undefined,
  isTrusted: (peerId: string) => boolean,
): Promise<SnapshotListing | null> {
  const ask = async (peer: PeerId): Promise<SnapshotListing | null> => {
    signal?.throwIfAborted()
    try {
      return await services.manifest.fetchSnapshot(peer, repo, revision, { signal })
    } catch {
      return null // not known there, or the peer failed: try the next
    }
  }
  const untrusted = peers.filter((p) => !isTrusted(p.toString()))
  for (const peer of peers.filter((p) => isTrusted(p.toString()))) {
    const listing = await ask(peer)
    if (listing !== null) return listing
  }
  for (const peer of untrusted) {
    if ((await ask(peer)) === null) continue
    throw new UntrustedListingError(
      `${repo.id}@${revision}: only untrusted peers (${peer.toString()}) can say which files this revision has, and their word is not taken offline; add a peer you trust with \`hffs-node peer add ADDR --trust\` or run a private swarm (--swarm-key)`,
    )
  }
  return null
}
