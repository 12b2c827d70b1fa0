import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** Writes files into a mock Hub root: `root/{type}s/{repoId}/{branch}/{path}`. */
export async function writeMockBranch(
  root: string,
  repoPath: string,
  branch: string,
  files: Record<string, Uint8Array | string>,
): Promise<void> {
  for (const [path, data] of Object.entries(files)) {
    const full = join(root, repoPath, branch, path)
    await mkdir(dirname(full), { recursive: true })
    await writeFile(full, data)
  }
}

/** Deterministic pseudo-random bytes, so that revisions can share or differ in known places. */
export function bytesOf(size: number): Buffer {
  return randomBytes(size)
}
