import { isCommitHash, isEtag, validateRepoFilePath, type RepoRef } from '../../store/hf-cache/index.ts'
import type { ShardIndex } from '../../store/index-db/shard-index.ts'
import { hashToHex } from '../../store/xet/index.ts'
import type { SnapshotListing } from '../../protocols/sources.ts'
import { localSnapshot } from '../pull/local-snapshot.ts'
import { PEER_LISTING_TTL_MS } from './constants.ts'

/** One file of a snapshot as the node knows it. */
export interface KnownFile {
  path: string
  etag: string
  size: number
  xetHash: string | null
}

export interface KnownSnapshot {
  commit: string
  files: KnownFile[]
  /**
   * Whether the listing is the whole commit (as the Hub listed it, from the index): only then may a path
   * it lacks be answered EntryNotFound. Snapshot folders and peers' listings may hold only some files.
   */
  complete: boolean
  origin: 'index' | 'peer' | 'cache'
}

export type PeerListing = (
  repo: RepoRef,
  revision: string,
  signal?: AbortSignal,
) => Promise<SnapshotListing | null>

export interface SnapshotKnowledgeInit {
  cacheDir: string
  index?: ShardIndex
  /** Asks the connected peers (none: no peers asked). */
  peerListing?: PeerListing
  /** Default PEER_LISTING_TTL_MS. */
  peerTtlMs?: number
}

/**
 * What the node knows of repo@revision when the upstream cannot answer: the index's listing (complete),
 * else a peer's, else the cache's own refs and snapshot links.
 */
export class SnapshotKnowledge {
  private readonly init: SnapshotKnowledgeInit
  private readonly peerAnswers = new Map<string, { at: number; listing: Promise<SnapshotListing | null> }>()
  /** `type/id@commit` → the branch and tag names the upstream resolved to it lately. */
  private readonly refs = new Map<string, Set<string>>()

  constructor(init: SnapshotKnowledgeInit) {
    this.init = init
  }

  async find(repo: RepoRef, revision: string, signal?: AbortSignal): Promise<KnownSnapshot | null> {
    const fromIndex = this.fromIndex(repo, revision)
    if (fromIndex !== null) return fromIndex
    const listing = await this.peerListing(repo, revision, signal)
    if (listing !== null) {
      const valid = validListing(listing)
      if (valid !== null) return { ...valid, complete: false, origin: 'peer' }
    }
    const local = await localSnapshot(this.init.cacheDir, repo, revision).catch(() => null)
    if (local === null) return null
    const files = local.files.filter((f) => f.size >= 0)
    return {
      commit: local.commit,
      files: files.map((f) => ({
        path: f.path,
        etag: f.etag,
        size: f.size,
        xetHash: this.xetHashOf(f.etag),
      })),
      complete: false,
      origin: 'cache',
    }
  }

  /**
   * Records what the upstream said a branch or tag points at: in the index at once (so that the revision
   * resolves offline once the commit's listing is there), and for refsTo(), which the pulls use to write
   * `refs/` in the cache once the snapshot folder exists.
   */
  learnRef(repo: RepoRef, revision: string, commit: string): void {
    if (isCommitHash(revision) || !isCommitHash(commit)) return
    this.init.index?.putRef(repo.type, repo.id, revision, commit)
    const key = `${repo.type}/${repo.id}@${commit}`
    const names = this.refs.get(key) ?? new Set<string>()
    names.add(revision)
    this.refs.set(key, names)
    if (this.refs.size > 1024) this.refs.delete(this.refs.keys().next().value as string)
  }

  /** The names learnRef() saw pointing at this commit. */
  refsTo(repo: RepoRef, commit: string): string[] {
    return [...(this.refs.get(`${repo.type}/${repo.id}@${commit}`) ?? [])]
  }

  /** A peer's listing, remembered for a while (so that each file of a snapshot does not ask again). */
  peerListing(repo: RepoRef, revision: string, signal?: AbortSignal): Promise<SnapshotListing | null> {
    const ask = this.init.peerListing
    if (ask === undefined) return Promise.resolve(null)
    const key = `${repo.type}/${repo.id}@${revision}`
    const now = Date.now()
    const hit = this.peerAnswers.get(key)
    if (hit !== undefined && now - hit.at < (this.init.peerTtlMs ?? PEER_LISTING_TTL_MS)) return hit.listing
    const listing = ask(repo, revision, signal).catch(() => null)
    this.peerAnswers.set(key, { at: now, listing })
    // A miss is not remembered: a peer may connect a moment later.
    void listing.then((l) => {
      if (l === null && this.peerAnswers.get(key)?.listing === listing) this.peerAnswers.delete(key)
    })
    return listing
  }

  private fromIndex(repo: RepoRef, revision: string): KnownSnapshot | null {
    const index = this.init.index
    if (index === undefined) return null
    const commit = isCommitHash(revision) ? revision : index.getRef(repo.type, repo.id, revision)
    if (commit === null) return null
    const files = index.getSnapshot(repo.type, repo.id, commit)
    if (files.length === 0) return null
    return {
      commit,
      files: files.map((f) => ({ ...f, xetHash: this.xetHashOf(f.etag) })),
      complete: true,
      origin: 'index',
    }
  }

  private xetHashOf(etag: string): string | null {
    const xet = this.init.index?.getBlob(etag)?.xetHash ?? null
    return xet === null ? null : hashToHex(xet)
  }
}

/** A listing from the network is checked before it is believed. */
function validListing(listing: SnapshotListing): { commit: string; files: KnownFile[] } | null {
  if (!isCommitHash(listing.commit)) return null
  try {
    const files = listing.files.map((f) => {
      validateRepoFilePath(f.path)
      if (!isEtag(f.etag) || !Number.isSafeInteger(f.size) || f.size < 0) throw new Error('bad entry')
      const xetHash = typeof f.xetHash === 'string' && /^[0-9a-f]{64}$/.test(f.xetHash) ? f.xetHash : null
      return { path: f.path, etag: f.etag, size: f.size, xetHash }
    })
    return { commit: listing.commit, files }
  } catch {
    return null
  }
}
