import { createHash, randomBytes } from 'node:crypto'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { gitBlobSha1 } from '../../src/store/blob-etag.ts'

export interface FakeFile {
  path: string
  data: Uint8Array
  /** LFS files are named by sha256, regular ones by git blob sha1. */
  lfs: boolean
}

/** Writes a repo the way huggingface_hub lays it out, by hand, independent of our writers. */
export async function writeFakeRepo(
  cacheDir: string,
  folder: string,
  commit: string,
  files: FakeFile[],
  refs: Record<string, string> = { main: commit },
): Promise<Map<string, string>> {
  const etags = new Map<string, string>()
  const repoDir = join(cacheDir, folder)
  await mkdir(join(repoDir, 'blobs'), { recursive: true })
  for (const f of files) {
    const etag = f.lfs ? createHash('sha256').update(f.data).digest('hex') : gitBlobSha1(f.data)
    etags.set(f.path, etag)
    const blob = join(repoDir, 'blobs', etag)
    await writeFile(blob, f.data)
    const pointer = join(repoDir, 'snapshots', commit, f.path)
    await mkdir(dirname(pointer), { recursive: true })
    await symlink(relative(dirname(pointer), blob), pointer)
  }
  for (const [name, sha] of Object.entries(refs)) {
    const refPath = join(repoDir, 'refs', name)
    await mkdir(dirname(refPath), { recursive: true })
    await writeFile(refPath, sha)
  }
  return etags
}

export function randomCommit(): string {
  return randomBytes(20).toString('hex')
}
