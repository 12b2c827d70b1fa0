import type { RepoRef } from '../../store/hf-cache/index.ts'
import type { HubConfig } from './hub-config.ts'
import { HubHttpError } from './hub-errors.ts'
import { hubRequest, type FetchLike } from './hub-request.ts'
import { apiRepoPath } from './hub-urls.ts'

/** One file of a snapshot as the Hub's tree API lists it. */
export interface RemoteFile {
  path: string
  size: number
  /** The blob's name in the cache: `lfs.oid` (sha256) for LFS files, the git `oid` (sha1) otherwise. */
  etag: string
  lfs: boolean
  /** The Xet file hash when the Hub gave one. */
  xetHash: string | null
}

export interface RemoteSnapshot {
  commit: string
  files: RemoteFile[]
  /** Whether the repo is private or gated, as the Hub's revision API said; absent when not asked. */
  access?: RepoAccess
}

/** Who may read a repo, from the Hub's repo info (`private`, and `gated`: false, "auto" or "manual"). */
export interface RepoAccess {
  private: boolean
  gated: boolean
}

export interface FetchSnapshotParams {
  config: HubConfig
  repo: RepoRef
  revision: string
  fetch?: FetchLike
  signal?: AbortSignal
}

const COMMIT = /^[0-9a-f]{40}$/
/** Bounds a hostile or broken pagination loop. */
const MAX_PAGES = 10_000

/** Resolves a revision to its commit (revision API) and lists every file of that commit (tree API, paginated). */
export async function fetchSnapshot(params: FetchSnapshotParams): Promise<RemoteSnapshot> {
  const { config, repo, revision, signal } = params
  const what = `${repo.id}@${revision}`
  // Asked even for a commit: its answer also says whether the repo is private or gated (DESIGN §2).
  const res = await hubRequest({
    config,
    url: `${apiRepoPath(repo)}/revision/${encodeURIComponent(revision)}`,
    what,
    fetch: params.fetch,
    signal,
  })
  const info = (await res.json()) as { sha?: unknown; private?: unknown; gated?: unknown }
  if (typeof info.sha !== 'string' || !COMMIT.test(info.sha)) {
    throw new HubHttpError(`${what}: the Hub's revision info has no valid commit sha`, 502)
  }
  const commit = info.sha
  if (COMMIT.test(revision) && commit !== revision) {
    throw new HubHttpError(`${what}: the Hub's revision info names another commit (${commit})`, 502)
  }
  // Anything but an explicit false/absent counts as restricted: a value we do not know is not "public".
  const access: RepoAccess = {
    private: info.private !== undefined && info.private !== false,
    gated: info.gated !== undefined && info.gated !== false && info.gated !== null,
  }
  const files: RemoteFile[] = []
  let url: string | null = `${apiRepoPath(repo)}/tree/${commit}?recursive=true&expand=false`
  for (let page = 0; url !== null; page++) {
    if (page >= MAX_PAGES) throw new HubHttpError(`${what}: the tree listing does not end`, 502)
    const res = await hubRequest({ config, url, what, fetch: params.fetch, signal })
    const entries = (await res.json()) as unknown
    if (!Array.isArray(entries)) throw new HubHttpError(`${what}: the tree listing is not a list`, 502)
    for (const e of entries) {
      const file = toRemoteFile(e)
      if (file !== null) files.push(file)
    }
    url = nextLink(res.headers.get('link'), res.url)
  }
  return { commit, files, access }
}

function toRemoteFile(e: unknown): RemoteFile | null {
  const entry = e as {
    type?: unknown
    path?: unknown
    size?: unknown
    oid?: unknown
    lfs?: { oid?: unknown; size?: unknown }
    xetHash?: unknown
  }
  if (entry.type !== 'file') return null
  if (typeof entry.path !== 'string' || typeof entry.size !== 'number' || typeof entry.oid !== 'string') {
    throw new HubHttpError(`the tree listing has a malformed entry: ${JSON.stringify(e).slice(0, 200)}`, 502)
  }
  const lfs = entry.lfs !== undefined && entry.lfs !== null && typeof entry.lfs.oid === 'string'
  return {
    path: entry.path,
    size: lfs && typeof entry.lfs?.size === 'number' ? entry.lfs.size : entry.size,
    etag: lfs ? String(entry.lfs?.oid) : entry.oid,
    lfs,
    xetHash: typeof entry.xetHash === 'string' ? entry.xetHash : null,
  }
}

/** The `rel="next"` target of a Link header, resolved against the request URL. */
export function nextLink(link: string | null, base: string): string | null {
  if (link === null) return null
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part.trim())
    if (m !== null) return new URL(m[1], base).toString()
  }
  return null
}
