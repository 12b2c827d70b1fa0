import {
  isCommitHash,
  isEtag,
  UnsafePathError,
  validateRepoFilePath,
  type RepoRef,
} from '../../store/hf-cache/index.ts'
import { fetchSnapshot, type RemoteFile, type RemoteSnapshot } from '../../protocols/hub/fetch-snapshot.ts'
import type { HubConfig } from '../../protocols/hub/hub-config.ts'
import { HubUnreachableError, OfflineError } from '../../protocols/hub/hub-errors.ts'
import type { FetchLike } from '../../protocols/hub/hub-request.ts'
import type { SnapshotListing } from '../../protocols/sources.ts'
import type { ShardIndex } from '../../store/index-db/shard-index.ts'
import { checkListingLayout } from './listing-layout.ts'
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
  /** Where the Hub's word on the repo's access (private, gated) is recorded. */
  index?: ShardIndex
  /**
   * Asks trusted peers for the listing; used when the Hub is offline or unreachable. Throws an
   * UntrustedListingError when only untrusted peers have it.
   */
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
      const snapshot = await fetchSnapshot({ config, repo, revision, fetch: params.fetch, signal })
      // Remembered so that a private or gated repo is served to trusted peers only.
      if (snapshot.access !== undefined) params.index?.putRepoAccess(repo.type, repo.id, snapshot.access)
      for (const f of snapshot.files) validateRepoFilePath(f.path)
      await checkLayout(params.cacheDir, repo, revision, snapshot)
      return { ...snapshot, origin: 'hub' }
    } catch (err) {
      if (!(err instanceof HubUnreachableError)) throw err
      hubError = err
    }
  }
  let untrusted: Error | null = null
  let fromPeer: SnapshotListing | null | undefined = null
  try {
    fromPeer = await params.peerSnapshot?.(repo, revision, signal)
  } catch (err) {
    // Only untrusted peers had it: the cache's own links may still say it, else this is the error.
    if ((err as Error).name !== 'UntrustedListingError') throw err
    untrusted = err as Error
  }
  if (fromPeer != null) {
    const listing = validateListing(fromPeer, repo, revision)
    await checkLayout(params.cacheDir, repo, revision, listing)
    return { ...listing, origin: 'peer' }
  }
  const local = await localSnapshot(params.cacheDir, repo, revision)
  if (local !== null) return { ...local, origin: 'cache' }
  if (untrusted !== null) throw untrusted
  if (hubError !== null) throw hubError
  throw new OfflineError(
    `${repo.id}@${revision}: HF_HUB_OFFLINE is set and no peer or cache has this revision`,
  )
}

/** The listing's files fit in its snapshot folder (checkListingLayout); the error names the revision. */
async function checkLayout(
  cacheDir: string,
  repo: RepoRef,
  revision: string,
  listing: RemoteSnapshot,
): Promise<void> {
  try {
    await checkListingLayout(
      cacheDir,
      repo,
      listing.commit,
      listing.files.map((f) => f.path),
    )
  } catch (err) {
    if (!(err instanceof UnsafePathError)) throw err
    throw new UnsafePathError(`${repo.id}@${revision}: listing refused: ${err.message}`)
  }
}

/** A listing from the network is checked before any of it touches the disk. */
function validateListing(listing: SnapshotListing, repo: RepoRef, revision: string): RemoteSnapshot {
  if (!isCommitHash(listing.commit))
    throw new OfflineError(`${repo.id}@${revision}: a peer sent an invalid commit`)
  const files: RemoteFile[] = listing.files.map((f) => {
    try {
      validateRepoFilePath(f.path)
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err
      throw new UnsafePathError(`${repo.id}@${revision}: refused a peer's listing: ${err.message}`)
    }
    if (!isEtag(f.etag) || !Number.isSafeInteger(f.size) || f.size < 0) {
      throw new OfflineError(`${repo.id}@${revision}: a peer sent an invalid entry for "${f.path}"`)
    }
    return { path: f.path, size: f.size, etag: f.etag, lfs: f.etag.length === 64, xetHash: f.xetHash }
  })
  return { commit: listing.commit, files }
}
