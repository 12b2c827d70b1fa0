import type { ManifestSource, RepoKind, SnapshotSource } from '../protocols/sources.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import type { PeerTrust } from './trust.ts'

export interface RestrictedReposParams {
  /** Where the Hub's word on each repo's access is kept (ShardIndex.putRepoAccess). */
  index: ShardIndex
  trust: PeerTrust
}

/** Whether the Hub said this repo is private or gated. A repo never asked about counts as public. */
export function isRestrictedRepo(index: ShardIndex, repoType: string, repoId: string): boolean {
  const access = index.getRepoAccess(repoType, repoId)
  return access !== null && (access.private || access.gated)
}

/**
 * The manifest protocol's sources, serving gated and private repos to trusted peers only (DESIGN §2): their
 * listings, and the manifests of blobs that no public repo here holds. Without a manifest a peer cannot
 * name the chunks it would ask for, so chunk and have-map requests need no check of their own.
 */
export function restrictedToTrusted<T extends SnapshotSource & ManifestSource>(
  sources: T,
  params: RestrictedReposParams,
): SnapshotSource & ManifestSource {
  const { index, trust } = params
  return {
    getSnapshot: (repoType, repoId, revision) => sources.getSnapshot(repoType, repoId, revision),
    getManifest: (etag) => sources.getManifest(etag),
    mayServe(repoType: RepoKind, repoId: string, peerId: string): boolean {
      return trust.isTrusted(peerId) || !isRestrictedRepo(index, repoType, repoId)
    },
    mayServeManifest(etag: string, peerId: string): boolean {
      if (trust.isTrusted(peerId)) return true
      const repos = index.reposOfBlob(etag)
      // A blob no repo lists yet (a download in progress) is served: its repo is not known here.
      return repos.length === 0 || repos.some((r) => !isRestrictedRepo(index, r.repoType, r.repoId))
    },
  }
}
