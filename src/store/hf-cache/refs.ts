import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ensureCacheDirTag } from './cachedir-tag.ts'
import { errorCode, writeFileAtomic } from './fs-util.ts'
import { refPath } from './paths.ts'
import type { RepoRef } from './repo.ts'
import { isCommitHash, validateCommit } from './validate.ts'

/**
 * Records that `refName` (branch, tag, `refs/pr/N`) points at `commit`: `refs/<refName>` holds
 * exactly the 40 hex digits, no newline. Rewritten (temp + rename) only when different; a ref
 * named like the commit itself is not written, as in huggingface_hub.
 */
export async function writeRef(
  cacheDir: string,
  repo: RepoRef,
  refName: string,
  commit: string,
): Promise<void> {
  const path = refPath(cacheDir, repo, refName)
  validateCommit(commit)
  if (refName === commit) return
  if ((await readRawOrNull(path)) === commit) return
  await ensureCacheDirTag(cacheDir)
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, commit)
}

/** The commit `refs/<refName>` points at, or null when the ref is missing or does not hold a commit hash. */
export async function readRef(cacheDir: string, repo: RepoRef, refName: string): Promise<string | null> {
  const raw = await readRawOrNull(refPath(cacheDir, repo, refName))
  if (raw === null) return null
  const commit = raw.trim()
  return isCommitHash(commit) ? commit : null
}

async function readRawOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const code = errorCode(err)
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null
    throw err
  }
}
