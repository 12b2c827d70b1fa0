import { existsSync } from 'node:fs'
import type { ManifestSource, RepoKind, SnapshotSource } from '../protocols/sources.ts'
import { blobPath, incompleteBlobPath, type RepoRef } from '../store/hf-cache/index.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import type { PeerTrust } from './trust.ts'

export interface RestrictedReposParams {
  /** Where the Hub's word on each repo's access is kept (ShardIndex.putRepoAccess). */
  index: ShardIndex
  /** The HF cache: a blob being downloaded is known only by the repo folder it is written into. */
  cacheDir: string
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
  const { index, trust, cacheDir } = params
  return {
    getSnapshot: (repoType, repoId, revision) => sources.getSnapshot(repoType, repoId, revision),
    getManifest: (etag) => sources.getManifest(etag),
    mayServe(repoType: RepoKind, repoId: string, peerId: string): boolean {
      return trust.isTrusted(peerId) || !isRestrictedRepo(index, repoType, repoId)
    },
    mayServeManifest(etag: string, peerId: string): boolean {
      if (trust.isTrusted(peerId)) return true
      const repos = index.reposOfBlob(etag)
      if (repos.length > 0) return repos.some((r) => !isRestrictedRepo(index, r.repoType, r.repoId))
      // Not in the index yet: a download in progress. Refused when it goes into a restricted repo's folder.
      return !index.restrictedRepos().some(({ repoType, repoId }) => {
        const repo = { type: repoType, id: repoId } as RepoRef
        return (
          existsSync(incompleteBlobPath(cacheDir, repo, etag)) || existsSync(blobPath(cacheDir, repo, etag))
        )
      })
    },
  }
}
