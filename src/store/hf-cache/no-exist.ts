import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ensureCacheDirTag } from './cachedir-tag.ts'
import { lstatOrNull, writeFileAtomic } from './fs-util.ts'
import { noExistPath } from './paths.ts'
import type { RepoRef } from './repo.ts'

/**
 * Records that `file` does not exist at `commit`: an empty `.no_exist/<commit>/<file>`, which
 * huggingface_hub's `try_to_load_from_cache` reads as "known missing". Returns the marker path.
 */
export async function markNoExist(
  cacheDir: string,
  repo: RepoRef,
  commit: string,
  file: string,
): Promise<string> {
  const path = noExistPath(cacheDir, repo, commit, file)
  if ((await lstatOrNull(path)) !== null) return path
  await ensureCacheDirTag(cacheDir)
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, '')
  return path
}
