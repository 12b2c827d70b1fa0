import { createHash } from 'node:crypto'
import { LFS_EXTENSIONS, LFS_SIZE_THRESHOLD } from './constants.ts'

/** Whether the Hub would store this file with LFS. */
export function isLfsFile(path: string, size: number): boolean {
  if (size >= LFS_SIZE_THRESHOLD) return true
  const lower = path.toLowerCase()
  return LFS_EXTENSIONS.some((ext) => lower.endsWith(ext))
}

/** The git-lfs pointer text that git stores in place of an LFS file. */
export function lfsPointerText(sha256: string, size: number): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`
}

/** git's object id: sha1 over `"<type> <length>\0" + body`. */
export function gitObjectId(type: 'blob' | 'tree' | 'commit', body: Uint8Array): string {
  return createHash('sha1').update(`${type} ${body.byteLength}\0`).update(body).digest('hex')
}

export interface TreeEntryInput {
  name: string
  kind: 'file' | 'directory'
  /** 40-hex object id of the blob (the pointer for LFS files) or subtree. */
  oid: string
}

/** git orders tree entries by name bytes, comparing a directory as if its name ended in `/`. */
function gitTreeOrder(a: TreeEntryInput, b: TreeEntryInput): number {
  const key = (e: TreeEntryInput): Buffer => Buffer.from(e.kind === 'directory' ? `${e.name}/` : e.name)
  return Buffer.compare(key(a), key(b))
}

/** The id of a git tree object holding `entries` (all files as mode 100644). */
export function gitTreeId(entries: TreeEntryInput[]): string {
  const parts: Buffer[] = []
  for (const e of [...entries].sort(gitTreeOrder)) {
    parts.push(
      Buffer.from(`${e.kind === 'directory' ? '40000' : '100644'} ${e.name}\0`),
      Buffer.from(e.oid, 'hex'),
    )
  }
  return gitObjectId('tree', Buffer.concat(parts))
}

/**
 * A commit object over `treeId` with a fixed author and date, so that the commit of a
 * branch folder depends on its content only.
 */
export function mockCommitId(treeId: string): string {
  const who = 'mock-hub <mock-hub@localhost> 0 +0000'
  return gitObjectId(
    'commit',
    Buffer.from(`tree ${treeId}\nauthor ${who}\ncommitter ${who}\n\nmock snapshot\n`),
  )
}
