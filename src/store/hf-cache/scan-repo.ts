import { readFile, readlink, realpath } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { errorCode } from './fs-util.ts'
import type { RepoRef } from './repo.ts'
import type { CachedFile, CachedRepo, CachedRevision, IncompleteBlob } from './scan-types.ts'
import { OS_JUNK_FILES, TEMP_FILE, readDirOrWarn, showPath, statOrNull, walkEntries } from './scan-walk.ts'
import { isCommitHash } from './validate.ts'

/** What scanRepoFolder found in one repo folder. */
export interface RepoFolderScan {
  /** The repo, or null when the folder is not a usable repo (no `snapshots/` folder). */
  repo: CachedRepo | null
  incomplete: IncompleteBlob[]
}

// Temporaries of linkSnapshotFile (`.hffs-<16 hex>.tmp`): left behind only by a crash, and not
// part of any revision.
const TEMP_LINK = /^\.hffs-[0-9a-f]{16}\.tmp$/

/**
 * Scans one repo folder the way huggingface_hub's `_scan_cached_repo` does, but more leniently:
 * a corrupt item (broken link, dangling ref, stray file) becomes a warning and is left out,
 * while the rest of the repo is still reported. Only a missing `snapshots/` drops the repo.
 */
export async function scanRepoFolder(
  repoPath: string,
  ref: RepoRef,
  warnings: string[],
): Promise<RepoFolderScan> {
  const incomplete = await scanIncomplete(repoPath, ref, warnings)
  const snapshotsPath = join(repoPath, 'snapshots')
  const snapshotsStat = await statOrWarn(snapshotsPath, warnings)
  if (snapshotsStat === null || !snapshotsStat.isDirectory()) {
    warnings.push(
      snapshotsStat === null
        ? `Repo folder has no snapshots folder: ${showPath(snapshotsPath)}`
        : `Expected a folder, found a file: ${showPath(snapshotsPath)}`,
    )
    return { repo: null, incomplete }
  }

  const refsByName = await scanRefs(join(repoPath, 'refs'), warnings)
  const blobStats = new Map<string, Stats>()
  const revisions: CachedRevision[] = []
  for (const dirent of (await readDirOrWarn(snapshotsPath, warnings)) ?? []) {
    if (OS_JUNK_FILES.has(dirent.name)) continue
    const revisionPath = join(snapshotsPath, dirent.name)
    const revisionStat = await statOrWarn(revisionPath, warnings)
    if (revisionStat === null) continue
    if (!revisionStat.isDirectory()) {
      warnings.push(`Snapshots folder holds a file, not a revision folder: ${showPath(revisionPath)}`)
      continue
    }
    const files = await scanRevisionFiles(repoPath, revisionPath, blobStats, warnings)
    const blobs = new Set(files.map((f) => f.blobPath))
    revisions.push({
      commit: dirent.name,
      path: revisionPath,
      refs: [...refsByName]
        .filter(([, commit]) => commit === dirent.name)
        .map(([name]) => name)
        .sort(),
      files,
      size: sumSizes([...blobs].map((b) => blobStats.get(b) as Stats)),
      lastModified: new Date(
        files.length > 0 ? maxOf(files.map((f) => f.lastModified.getTime())) : revisionStat.mtimeMs,
      ),
    })
  }

  const present = new Set(revisions.map((r) => r.commit))
  const refs: Record<string, string> = {}
  for (const [name, commit] of refsByName) {
    if (present.has(commit)) refs[name] = commit
    else warnings.push(`Ref ${showPath(name)} points to missing snapshot ${commit} in ${showPath(repoPath)}`)
  }

  const stats = [...blobStats.values()]
  const folderStat = stats.length > 0 ? null : await statOrNull(repoPath)
  return {
    repo: {
      type: ref.type,
      id: ref.id,
      path: repoPath,
      size: sumSizes(stats),
      nbFiles: stats.length,
      lastAccessed: new Date(folderStat?.atimeMs ?? maxOf(stats.map((s) => s.atimeMs))),
      lastModified: new Date(folderStat?.mtimeMs ?? maxOf(stats.map((s) => s.mtimeMs))),
      refs,
      revisions,
    },
    incomplete,
  }
}

// Ref name (`main`, `refs/pr/1`) → commit, read recursively from `refs/`; names sorted.
async function scanRefs(refsPath: string, warnings: string[]): Promise<Map<string, string>> {
  const refs = new Map<string, string>()
  const refsStat = await statOrWarn(refsPath, warnings)
  if (refsStat === null) return refs
  if (!refsStat.isDirectory()) {
    warnings.push(`Expected a folder, found a file: ${showPath(refsPath)}`)
    return refs
  }
  for (const entry of await walkEntries(refsPath, warnings)) {
    if (OS_JUNK_FILES.has(entry.dirent.name)) continue
    if (TEMP_FILE.test(entry.dirent.name)) {
      warnings.push(`Leftover temporary file: ${showPath(entry.abs)}`)
      continue
    }
    let content: string
    try {
      content = await readFile(entry.abs, 'utf8')
    } catch (err) {
      warnings.push(`Cannot read ref ${showPath(entry.abs)}: ${errorCode(err) ?? String(err)}`)
      continue
    }
    const commit = content.trim()
    if (isCommitHash(commit)) refs.set(entry.rel, commit)
    else warnings.push(`Ref does not hold a commit hash: ${showPath(entry.abs)}`)
  }
  return refs
}

async function scanRevisionFiles(
  repoPath: string,
  revisionPath: string,
  blobStats: Map<string, Stats>,
  warnings: string[],
): Promise<CachedFile[]> {
  const blobsDir = join(repoPath, 'blobs')
  const files: CachedFile[] = []
  for (const { rel, abs, dirent } of await walkEntries(revisionPath, warnings)) {
    if (TEMP_LINK.test(dirent.name)) {
      warnings.push(`Leftover temporary file: ${showPath(abs)}`)
      continue
    }
    let blob: string
    if (dirent.isSymbolicLink()) {
      const resolved = await resolveLink(abs, blobsDir)
      if (resolved === null) {
        warnings.push(`Blob missing (broken symlink): ${showPath(abs)}`)
        continue
      }
      blob = resolved
    } else if (dirent.isFile()) {
      blob = abs
    } else {
      continue
    }
    let blobStat = blobStats.get(blob) ?? null
    if (blobStat === null) {
      blobStat = await statOrWarn(blob, warnings)
      if (blobStat === null) {
        const what = dirent.isSymbolicLink()
          ? 'Blob missing (broken symlink)'
          : 'File vanished during the scan'
        warnings.push(`${what}: ${showPath(abs)}`)
        continue
      }
      if (!blobStat.isFile()) {
        warnings.push(`Snapshot entry is not a file: ${showPath(abs)}`)
        continue
      }
      blobStats.set(blob, blobStat)
    }
    files.push({
      path: rel,
      filePath: abs,
      blobPath: blob,
      etag: dirname(blob) === blobsDir ? basename(blob) : null,
      size: blobStat.size,
      lastAccessed: new Date(blobStat.atimeMs),
      lastModified: new Date(blobStat.mtimeMs),
    })
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

// Like huggingface_hub: keep the first hop when it lands in the repo's blobs/ (a blob may itself
// be a link into a shared store), otherwise resolve fully. Null when the link is broken.
async function resolveLink(linkPath: string, blobsDir: string): Promise<string | null> {
  try {
    const firstHop = resolve(dirname(linkPath), await readlink(linkPath))
    return dirname(firstHop) === blobsDir ? firstHop : await realpath(linkPath)
  } catch {
    return null
  }
}

async function scanIncomplete(repoPath: string, ref: RepoRef, warnings: string[]): Promise<IncompleteBlob[]> {
  const blobsDir = join(repoPath, 'blobs')
  const blobsStat = await statOrWarn(blobsDir, warnings)
  if (blobsStat === null) return []
  if (!blobsStat.isDirectory()) {
    warnings.push(`Expected a folder, found a file: ${showPath(blobsDir)}`)
    return []
  }
  const found: IncompleteBlob[] = []
  for (const dirent of (await readDirOrWarn(blobsDir, warnings)) ?? []) {
    if (!dirent.name.endsWith('.incomplete')) continue
    const path = join(blobsDir, dirent.name)
    const stats = await statOrWarn(path, warnings)
    if (stats === null || !stats.isFile()) continue
    const etag = dirent.name.slice(0, dirent.name.indexOf('.'))
    found.push({
      type: ref.type,
      id: ref.id,
      path,
      etag,
      size: stats.size,
      lastModified: new Date(stats.mtimeMs),
    })
  }
  return found
}

// stat that turns "not there" into null and any other failure (EACCES, …) into a warning and null.
async function statOrWarn(path: string, warnings: string[]): Promise<Stats | null> {
  try {
    return await statOrNull(path)
  } catch (err) {
    warnings.push(`Cannot stat ${showPath(path)}: ${errorCode(err) ?? String(err)}`)
    return null
  }
}

function sumSizes(stats: Stats[]): number {
  return stats.reduce((sum, s) => sum + s.size, 0)
}

function maxOf(values: number[]): number {
  return values.reduce((a, b) => Math.max(a, b), -Infinity)
}
