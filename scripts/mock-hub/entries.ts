import { canReadContent } from './auth.ts'
import type { RepoRequest } from './context.ts'
import type { FileHashCache } from './file-hashes.ts'
import type { Snapshot, SnapshotEntry } from './snapshot.ts'

/** An entry of the tree and paths-info APIs (`RepoFile` / `RepoFolder` in huggingface_hub). */
export interface TreeEntryJson {
  type: 'file' | 'directory'
  oid: string
  size: number
  path: string
  lfs?: { oid: string; size: number; pointerSize: number }
  xetHash?: string
  lastCommit?: { id: string; title: string; date: string }
}

/**
 * One branch folder is one commit with no history, so the last commit that touched any
 * path is the snapshot's own commit.
 */
export function lastCommitOf(snapshot: Snapshot): TreeEntryJson['lastCommit'] {
  return { id: snapshot.commit, title: 'mock snapshot', date: snapshot.lastModified.toISOString() }
}

/**
 * How `xetHash` is shown: the hash; masked as 64 `*` (what the Hub shows callers without
 * access to a gated repo's files); or left out.
 */
export type XetHashDisplay = 'hash' | 'masked' | 'omitted'

export interface EntryJsonOptions {
  expand: boolean
  xetHash: XetHashDisplay
}

/** How a request may see Xet hashes: `xetHashes` knob off → omitted; gated without access → masked. */
export function xetHashDisplay(r: RepoRequest): XetHashDisplay {
  if (!r.ctx.knobs().xetHashes) return 'omitted'
  return canReadContent(r.repo, r.caller) ? 'hash' : 'masked'
}

export async function entryJson(
  hashes: FileHashCache,
  snapshot: Snapshot,
  entry: SnapshotEntry,
  options: EntryJsonOptions,
): Promise<TreeEntryJson> {
  const out: TreeEntryJson =
    entry.kind === 'directory'
      ? { type: 'directory', oid: entry.oid, size: 0, path: entry.path }
      : { type: 'file', oid: entry.hashes.gitOid, size: entry.size, path: entry.path }
  if (entry.kind === 'file' && entry.hashes.lfs) {
    out.lfs = { oid: entry.hashes.lfs.sha256, size: entry.size, pointerSize: entry.hashes.lfs.pointerSize }
    if (options.xetHash === 'hash') out.xetHash = await hashes.xetHash(entry)
    else if (options.xetHash === 'masked') out.xetHash = '*'.repeat(64)
  }
  if (options.expand) out.lastCommit = lastCommitOf(snapshot)
  return out
}
