import { createHash } from 'node:crypto'
import { lstat, mkdtemp, readdir, readlink, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temp folder per test, removed afterwards. Call inside a describe(). */
export function useTempDir(): { readonly path: string } {
  const state = { path: '' }
  beforeEach(async () => {
    state.path = await mkdtemp(join(tmpdir(), 'hffs-hf-cache-'))
  })
  afterEach(async () => {
    await rm(state.path, { recursive: true, force: true })
  })
  return state
}

/** The git blob sha1 huggingface_hub uses as the etag of a small file. */
export function gitBlobSha1(data: Uint8Array): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex')
}

/** sha256 hex, the etag of an LFS / Xet file. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A deterministic 40-hex commit hash from a seed. */
export function commitOf(seed: string): string {
  return createHash('sha1').update(seed).digest('hex')
}

/**
 * Every entry under `root` as a sorted `relative path → description` map: `file:<content>` (utf8),
 * `link:<target>` or `dir`. Used to assert layouts byte-for-byte and "nothing changed".
 */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? root : join(root, rel)
    for (const name of (await readdir(abs)).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`
      const childAbs = join(root, childRel)
      const stats = await lstat(childAbs)
      if (stats.isSymbolicLink()) out[childRel] = `link:${await readlink(childAbs)}`
      else if (stats.isDirectory()) {
        out[childRel] = 'dir'
        await walk(childRel)
      } else out[childRel] = `file:${await readFile(childAbs, 'utf8')}`
    }
  }
  await walk('')
  return out
}
