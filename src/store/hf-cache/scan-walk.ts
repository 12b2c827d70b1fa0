import { readdir, stat } from 'node:fs/promises'
import type { Dirent, Stats } from 'node:fs'
import { join } from 'node:path'
import { errorCode } from './fs-util.ts'

/** Names the operating system drops into folders; huggingface_hub's scan ignores them too. */
export const OS_JUNK_FILES: ReadonlySet<string> = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini'])

/** Temporaries of writeFileAtomic (`main.1a2b3c4d.tmp`): left behind only by a crash. */
export const TEMP_FILE = /\.[0-9a-f]{8}\.tmp$/

/** A non-folder entry found by walkEntries, with its path relative to the walk's root (POSIX). */
export interface WalkedEntry {
  rel: string
  abs: string
  dirent: Dirent
}

/** A path made safe for a one-line message: control characters escaped. */
export function showPath(path: string): string {
  // eslint-disable-next-line no-control-regex
  return path.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Sorted folder entries, or null (with a warning) when the folder cannot be read. */
export async function readDirOrWarn(dir: string, warnings: string[]): Promise<Dirent[] | null> {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  } catch (err) {
    warnings.push(`Cannot read folder ${showPath(dir)}: ${errorCode(err) ?? String(err)}`)
    return null
  }
}

/** Every non-folder entry under `root`, depth first in name order; real sub-folders are entered, folder symlinks are not. */
export async function walkEntries(root: string, warnings: string[], rel = ''): Promise<WalkedEntry[]> {
  const dir = rel === '' ? root : join(root, rel)
  const entries = await readDirOrWarn(dir, warnings)
  if (entries === null) return []
  const found: WalkedEntry[] = []
  for (const dirent of entries) {
    const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`
    if (dirent.isDirectory()) found.push(...(await walkEntries(root, warnings, childRel)))
    else found.push({ rel: childRel, abs: join(root, childRel), dirent })
  }
  return found
}

/** stat (following links) that returns null when nothing is there. */
export async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path)
  } catch (err) {
    const code = errorCode(err)
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
}
