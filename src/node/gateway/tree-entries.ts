import { createHash } from 'node:crypto'
import { gitBlobSha1 } from '../../store/blob-etag.ts'
import type { KnownFile, KnownSnapshot } from './known-snapshot.ts'

/** An entry of the tree and paths-info APIs, as the Hub writes it (`RepoFile` / `RepoFolder`). */
export interface TreeEntry {
  type: 'file' | 'directory'
  oid: string
  size: number
  path: string
  lfs?: { oid: string; size: number; pointerSize: number }
  xetHash?: string
  lastCommit?: { id: string; title: string; date: string }
}

/** A snapshot's files and folders as tree entries, made from what the node knows. */
export interface SnapshotTree {
  /** Folder path ('' for the root) → its children's paths, in name order. */
  children: Map<string, string[]>
  entries: Map<string, TreeEntry>
}

const byNameBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))
const parentOf = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '')
const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1)

/**
 * The file's entry: an LFS file (sha256 etag) is listed by the git id of its pointer, with `lfs`; a regular
 * file by its git blob id, which is its etag. No `xetHash`: the gateway serves bytes over plain HTTP only
 * (see relay.ts).
 */
export function fileEntry(f: KnownFile): TreeEntry {
  if (f.etag.length !== 64) return { type: 'file', oid: f.etag, size: f.size, path: f.path }
  const pointer = Buffer.from(
    `version https://git-lfs.github.com/spec/v1\noid sha256:${f.etag}\nsize ${f.size}\n`,
  )
  const entry: TreeEntry = {
    type: 'file',
    oid: gitBlobSha1(pointer),
    size: f.size,
    path: f.path,
    lfs: { oid: f.etag, size: f.size, pointerSize: pointer.byteLength },
  }
  return entry
}

/** Files and the folders they imply; a folder's oid is its git tree id (files as mode 100644). */
export function snapshotTree(snapshot: KnownSnapshot): SnapshotTree {
  const entries = new Map<string, TreeEntry>()
  const children = new Map<string, string[]>([['', []]])
  const addDir = (dir: string): void => {
    if (children.has(dir)) return
    children.set(dir, [])
    addDir(parentOf(dir))
    children.get(parentOf(dir))?.push(dir)
  }
  for (const f of snapshot.files) {
    addDir(parentOf(f.path))
    children.get(parentOf(f.path))?.push(f.path)
    entries.set(f.path, fileEntry(f))
  }
  for (const list of children.values()) list.sort((a, b) => byNameBytes(baseName(a), baseName(b)))
  const treeId = (dir: string): string => {
    const parts: Buffer[] = []
    const kids = (children.get(dir) ?? []).map((p) => {
      const isDir = children.has(p)
      return { name: baseName(p), isDir, oid: isDir ? treeId(p) : (entries.get(p) as TreeEntry).oid }
    })
    kids.sort((a, b) => byNameBytes(a.isDir ? `${a.name}/` : a.name, b.isDir ? `${b.name}/` : b.name))
    for (const k of kids) {
      parts.push(Buffer.from(`${k.isDir ? '40000' : '100644'} ${k.name}\0`), Buffer.from(k.oid, 'hex'))
    }
    const body = Buffer.concat(parts)
    const oid = createHash('sha1').update(`tree ${body.byteLength}\0`).update(body).digest('hex')
    if (dir !== '') entries.set(dir, { type: 'directory', oid, size: 0, path: dir })
    return oid
  }
  treeId('')
  return { children, entries }
}

/** Entries under `dir` ('' for the root): its children, or all its descendants depth first. */
export function listEntries(tree: SnapshotTree, dir: string, recursive: boolean): TreeEntry[] {
  const out: TreeEntry[] = []
  const walk = (d: string): void => {
    for (const p of tree.children.get(d) ?? []) {
      out.push(tree.entries.get(p) as TreeEntry)
      if (recursive && tree.children.has(p)) walk(p)
    }
  }
  walk(dir)
  return out
}

/** With `expand`, the commit the node knows stands for the last commit of every path. */
export function withLastCommit(entry: TreeEntry, commit: string, expand: boolean): TreeEntry {
  return expand ? { ...entry, lastCommit: { id: commit, title: '', date: new Date(0).toISOString() } } : entry
}
