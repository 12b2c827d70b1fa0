import { isCommitHash, isEtag, validateRepoFilePath, type RepoRef } from '../../store/hf-cache/index.ts'
import { fetchSnapshot, type RemoteFile, type RemoteSnapshot } from '../../protocols/hub/fetch-snapshot.ts'
import type { HubConfig } from '../../protocols/hub/hub-config.ts'
import { HubUnreachableError, OfflineError } from '../../protocols/hub/hub-errors.ts'
import type { FetchLike } from '../../protocols/hub/hub-request.ts'
import type { SnapshotListing } from '../../protocols/sources.ts'
import { localSnapshot } from './local-snapshot.ts'

export type SnapshotOrigin = 'hub' | 'peer' | 'cache'

export interface ResolvedSnapshot extends RemoteSnapshot {
  origin: SnapshotOrigin
}

export interface ResolveSnapshotParams {
  config: HubConfig
  cacheDir: string
  repo: RepoRef
  revision: string
  fetch?: FetchLike
  signal?: AbortSignal
  /** Asks peers for the listing; used when the Hub is offline or unreachable. */
  peerSnapshot?: (repo: RepoRef, revision: string, signal?: AbortSignal) => Promise<SnapshotListing | null>
}

/**
 * Which blob is at which path of repo@revision: from the Hub when it answers; else from peers; else, as
 * huggingface_hub does offline, from the cache's own refs and snapshot links.
 */
export async function resolveSnapshot(params: ResolveSnapshotParams): Promise<ResolvedSnapshot> {
  const { config, repo, revision, signal } = params
  let hubError: Error | null = null
  if (!config.offline) {
    try {
      return {
        ...(await fetchSnapshot({ config, repo, revision, fetch: params.fetch, signal })),
        origin: 'hub',
      }
    } catch (err) {
      if (!(err instanceof HubUnreachableError)) throw err
      hubError = err
    }
  }
  const fromPeer = await params.peerSnapshot?.(repo, revision, signal)
  if (fromPeer != null) return { ...validateListing(fromPeer, repo, revision), origin: 'peer' }
  const local = await localSnapshot(params.cacheDir, repo, revision)
  if (local !== null) return { ...local, origin: 'cache' }
  if (hubError !== null) throw hubError
  throw new OfflineError(
    `${repo.id}@${revision}: HF_HUB_OFFLINE is set and no peer or cache has this revision`,
  )
}

/** A listing from the network is checked before any of it touches the disk. */
function validateListing(listing: SnapshotListing, repo: RepoRef, revision: string): RemoteSnapshot {
  if (!isCommitHash(listing.commit))
    throw new OfflineError(`${repo.id}@${revision}: a peer sent an invalid commit`)
  const files: RemoteFile[] = listing.files.map((f) => {
    validateRepoFilePath(f.path)
    if (!isEtag(f.etag) || !Number.isSafeInteger(f.size) || f.size < 0) {
      throw new OfflineError(`${repo.id}@${revision}: a peer sent an invalid entry for "${f.path}"`)
    }
    return { path: f.path, size: f.size, etag: f.etag, lfs: f.etag.length === 64, xetHash: f.xetHash }
  })
  return { commit: listing.commit, files }
}
