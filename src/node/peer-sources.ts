import type { PeerId } from '@libp2p/interface'
import type { ChunksProtocol } from '../protocols/chunks/index.ts'
import type { HaveProtocol } from '../protocols/have/index.ts'
import type { ManifestProtocol } from '../protocols/manifest/index.ts'
import type { SnapshotListing } from '../protocols/sources.ts'
import type { RepoRef } from '../store/hf-cache/index.ts'
import { hexToHash } from '../store/xet/index.ts'
import type { PeerSource } from './pull/peer-source.ts'

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
    fetchChunks(hashes, { signal }) {
      return services.chunks.fetchChunks(peer, hashes, { signal })
    },
    async subscribeHave(etag, { signal }) {
      if (services.have === undefined) return null
      try {
        const sub = await services.have.subscribeHave(peer, etag, { signal })
        return { has: (i) => sub.has(i), updates: sub, close: () => sub.close() }
      } catch {
        return null
      }
    },
  }
}

/**
 * Asks peers, one after another, for the listing of repo@revision; the first that knows it answers.
 * Peers that fail or do not know it are skipped. (Trust decides later which peers may be asked offline.)
 */
export async function snapshotFromPeers(
  peers: readonly PeerId[],
  services: SwarmServices,
  repo: RepoRef,
  revision: string,
  signal?: AbortSignal,
): Promise<SnapshotListing | null> {
  for (const peer of peers) {
    signal?.throwIfAborted()
    try {
      return await services.manifest.fetchSnapshot(peer, repo, revision, { signal })
    } catch {
      // not known there, or the peer failed: try the next
    }
  }
  return null
}
