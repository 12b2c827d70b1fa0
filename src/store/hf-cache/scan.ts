import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CACHEDIR_TAG_NAME } from './cachedir-tag.ts'
import { CacheNotFoundError } from './errors.ts'
import { errorCode } from './fs-util.ts'
import { LOCKS_DIR } from './paths.ts'
import { parseRepoFolderName } from './repo.ts'
import { scanRepoFolder } from './scan-repo.ts'
import type { CacheScan, CachedRepo, IncompleteBlob } from './scan-types.ts'
import { OS_JUNK_FILES, TEMP_FILE, readDirOrWarn, showPath, statOrNull } from './scan-walk.ts'

/** Options of scanHubCache. */
export interface ScanOptions {
  /** Stops the scan between two repos. */
  signal?: AbortSignal
}

// huggingface_hub's cache-wide shared blob store (`<cache>/blobs/` marked by this file) is not a repo.
const SHARED_BLOBS_DIR = 'blobs'
const SHARED_BLOBS_MARKER = '.huggingface-shared-blobs'

/**
 * Scans a hub cache like huggingface_hub's `scan_cache_dir`: every repo with its revisions,
 * files, refs and sizes (each blob counted once), `.incomplete` downloads apart, and a warning
 * line for anything corrupt instead of a failure. Throws CacheNotFoundError when `cacheDir`
 * is missing or not a folder.
 */
export async function scanHubCache(cacheDir: string, options: ScanOptions = {}): Promise<CacheScan> {
  const root = resolve(cacheDir)
  let rootStat
  try {
    rootStat = await statOrNull(root)
  } catch (err) {
    throw new CacheNotFoundError(
      `Cannot open cache folder ${showPath(root)}: ${errorCode(err) ?? String(err)}`,
    )
  }
  if (rootStat === null) throw new CacheNotFoundError(`Cache folder not found: ${showPath(root)}`)
  if (!rootStat.isDirectory()) throw new CacheNotFoundError(`Cache path is not a folder: ${showPath(root)}`)

  const warnings: string[] = []
  const repos: CachedRepo[] = []
  const incomplete: IncompleteBlob[] = []
  for (const dirent of (await readDirOrWarn(root, warnings)) ?? []) {
    options.signal?.throwIfAborted()
    const name = dirent.name
    if (name === LOCKS_DIR || name === CACHEDIR_TAG_NAME || OS_JUNK_FILES.has(name)) continue
    const path = join(root, name)
    if (name.startsWith(`${CACHEDIR_TAG_NAME}.`) && TEMP_FILE.test(name)) {
      warnings.push(`Leftover temporary file: ${showPath(path)}`)
      continue
    }
    if (name === SHARED_BLOBS_DIR && (await isSharedBlobStore(path))) continue
    const ref = parseRepoFolderName(name)
    if (ref === null) {
      warnings.push(`Not a repo folder: ${showPath(path)}`)
      continue
    }
    let folderStat
    try {
      folderStat = await statOrNull(path)
    } catch (err) {
      warnings.push(`Cannot stat ${showPath(path)}: ${errorCode(err) ?? String(err)}`)
      continue
    }
    if (folderStat === null) continue
    if (!folderStat.isDirectory()) {
      warnings.push(`Expected a repo folder, found a file: ${showPath(path)}`)
      continue
    }
    const found = await scanRepoFolder(path, ref, warnings)
    if (found.repo !== null) repos.push(found.repo)
    incomplete.push(...found.incomplete)
  }
  return { cacheDir: root, repos, incomplete, size: repos.reduce((sum, r) => sum + r.size, 0), warnings }
}

async function isSharedBlobStore(path: string): Promise<boolean> {
  try {
    return (await readFile(join(path, SHARED_BLOBS_MARKER), 'utf8')) === '1\n'
  } catch {
    return false
  }
}
