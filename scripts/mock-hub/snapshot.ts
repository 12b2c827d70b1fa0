import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { FileHashCache, FileHashes, FileIdentity } from './file-hashes.ts'
import { gitTreeId, isLfsFile, mockCommitId, type TreeEntryInput } from './git-objects.ts'
import type { RepoRef } from './repo-store.ts'

export interface SnapshotFile extends FileIdentity {
  path: string
  hashes: FileHashes
}

export interface SnapshotDir {
  path: string
  /** git tree id of the folder. */
  oid: string
}

export type SnapshotEntry = ({ kind: 'file' } & SnapshotFile) | ({ kind: 'directory' } & SnapshotDir)

/** One branch folder = one commit. */
export interface Snapshot {
  repo: RepoRef
  branch: string
  commit: string
  /** Newest file mtime (the commit's date). */
  lastModified: Date
  files: Map<string, SnapshotFile>
  dirs: Map<string, SnapshotDir>
  /** Folder path ('' for the root) → its entries' paths, in name order. */
  children: Map<string, string[]>
}

const byNameBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

interface ScannedFile {
  path: string
  absPath: string
  size: number
  mtimeMs: number
}

async function scanFolder(
  folder: string,
  prefix: string,
  files: ScannedFile[],
  dirs: string[],
): Promise<void> {
  const names = (await readdir(folder)).sort(byNameBytes)
  for (const name of names) {
    if (prefix === '' && name === '.git') continue
    const absPath = join(folder, name)
    const st = await stat(absPath).catch(() => null) // follows symlinks; a dangling one is skipped
    const path = prefix + name
    if (st?.isDirectory()) {
      dirs.push(path)
      await scanFolder(absPath, `${path}/`, files, dirs)
    } else if (st?.isFile()) {
      files.push({ path, absPath, size: st.size, mtimeMs: st.mtimeMs })
    }
  }
}

const parentOf = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '')
const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1)

/** Lists and hashes a branch folder. */
export async function scanSnapshot(init: {
  repo: RepoRef
  branch: string
  folder: string
  hashes: FileHashCache
}): Promise<Snapshot> {
  const scanned: ScannedFile[] = []
  const dirPaths: string[] = []
  await scanFolder(init.folder, '', scanned, dirPaths)

  const files = new Map<string, SnapshotFile>()
  await Promise.all(
    scanned.map(async (f) => {
      const identity = { ...f, lfs: isLfsFile(f.path, f.size) }
      files.set(f.path, { ...identity, hashes: await init.hashes.hashes(identity) })
    }),
  )

  const children = new Map<string, string[]>([['', []]])
  for (const d of dirPaths) children.set(d, [])
  for (const p of [...dirPaths, ...scanned.map((f) => f.path)]) children.get(parentOf(p))!.push(p)
  for (const list of children.values()) list.sort((a, b) => byNameBytes(baseName(a), baseName(b)))

  const dirs = new Map<string, SnapshotDir>()
  const treeOf = (dir: string): string => {
    const entries: TreeEntryInput[] = children.get(dir)!.map((p) => {
      const file = files.get(p)
      if (file) return { name: baseName(p), kind: 'file', oid: file.hashes.gitOid }
      return { name: baseName(p), kind: 'directory', oid: treeOf(p) }
    })
    const oid = gitTreeId(entries)
    if (dir !== '') dirs.set(dir, { path: dir, oid })
    return oid
  }
  const rootTree = treeOf('')

  const newest = Math.max(0, ...scanned.map((f) => f.mtimeMs))
  return {
    repo: init.repo,
    branch: init.branch,
    commit: mockCommitId(rootTree),
    lastModified: new Date(Math.floor(newest / 1000) * 1000),
    files,
    dirs,
    children,
  }
}

/** Entries under `dir` ('' for the root): its children, or all descendants (depth first). */
export function listEntries(snapshot: Snapshot, dir: string, recursive: boolean): SnapshotEntry[] {
  const out: SnapshotEntry[] = []
  const walk = (d: string): void => {
    for (const p of snapshot.children.get(d) ?? []) {
      const entry = entryAt(snapshot, p)!
      out.push(entry)
      if (recursive && entry.kind === 'directory') walk(p)
    }
  }
  walk(dir)
  return out
}

export function entryAt(snapshot: Snapshot, path: string): SnapshotEntry | null {
  const file = snapshot.files.get(path)
  if (file) return { kind: 'file', ...file }
  const dir = snapshot.dirs.get(path)
  return dir ? { kind: 'directory', ...dir } : null
}
