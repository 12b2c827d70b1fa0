import { randomBytes } from 'node:crypto'
import { lstat, open, rename, rm } from 'node:fs/promises'
import type { Stats } from 'node:fs'

/** The errno code of a failed fs call, if any. */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined
}

/** 8 random hex characters, as huggingface_hub uses in its temporary file names. */
export function randomHex8(): string {
  return randomBytes(4).toString('hex')
}

/** lstat that returns null when the path (or a parent) does not exist. */
export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path)
  } catch (err) {
    const code = errorCode(err)
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
}

/** Flushes a file's data to disk. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Flushes a folder entry (after a rename) to disk; best-effort, as some file systems refuse it. */
export async function fsyncDir(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Durability hint only: the rename itself is already atomic.
  }
}

/**
 * Writes a file so that readers see either the old content or the new one, never a part:
 * the data goes to `<path>.<8hex>.tmp` in the same folder, then is renamed over `path`.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { fsync?: boolean } = {},
): Promise<void> {
  const temp = `${path}.${randomHex8()}.tmp`
  try {
    const handle = await open(temp, 'wx')
    try {
      await handle.writeFile(data)
      if (options.fsync === true) await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
