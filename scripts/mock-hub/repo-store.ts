import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_BRANCH } from './constants.ts'
import type { FileHashCache } from './file-hashes.ts'
import { scanSnapshot, type Snapshot } from './snapshot.ts'

export type RepoType = 'model' | 'dataset' | 'space'

export interface RepoRef {
  type: RepoType
  /** `org/name`, or `name` for the few repos without an org. */
  id: string
}

/** `{repo}/.mock.json`. */
export interface RepoConfig {
  private: boolean
  /** The Hub's `gated` field: false, "auto" or "manual". */
  gated: false | 'auto' | 'manual'
  /** Valid tokens that were granted access to a gated repo; all valid tokens when absent. */
  grantedTokens?: string[]
  /** Old ids that redirect here. */
  renamedFrom: string[]
  /** Extra fields merged into the repo info (pipeline_tag, library_name, tags, ...). */
  info: Record<string, unknown>
}

export interface Repo {
  ref: RepoRef
  folder: string
  config: RepoConfig
}

/** `refs--pr--1` (folder) ↔ `refs/pr/1` (revision). */
export const branchFromFolder = (name: string): string => name.replaceAll('--', '/')

const COMMIT_RE = /^[0-9a-f]{40}$/

export function repoKey(ref: RepoRef): string {
  return `${ref.type}/${ref.id}`
}

function parseConfig(json: unknown): RepoConfig {
  const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>
  const gated = o.gated === true ? 'auto' : o.gated === 'auto' || o.gated === 'manual' ? o.gated : false
  const renamed = o.renamedFrom
  return {
    private: o.private === true,
    gated,
    grantedTokens: Array.isArray(o.grantedTokens) ? o.grantedTokens.map(String) : undefined,
    renamedFrom: Array.isArray(renamed) ? renamed.map(String) : typeof renamed === 'string' ? [renamed] : [],
    info: o.info && typeof o.info === 'object' ? (o.info as Record<string, unknown>) : {},
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

/** Repos as plain folders: `{root}/{type}s/{org}/{name}/{branch folder}/...files`. */
export class RepoStore {
  private readonly root: string
  private readonly hashes: FileHashCache
  private readonly scanTtlMs: () => number
  private readonly snapshots = new Map<string, { at: number; snapshot: Promise<Snapshot> }>()

  constructor(init: { root: string; hashes: FileHashCache; scanTtlMs: () => number }) {
    this.root = init.root
    this.hashes = init.hashes
    this.scanTtlMs = init.scanTtlMs
  }

  private folderOf(ref: RepoRef): string | null {
    const parts = ref.id.split('/')
    if (parts.length < 1 || parts.length > 2) return null
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.') || p.includes('\\')))
      return null
    return join(this.root, `${ref.type}s`, ...parts)
  }

  async findRepo(ref: RepoRef): Promise<Repo | null> {
    const folder = this.folderOf(ref)
    if (!folder || !(await isDirectory(folder))) return null
    return { ref, folder, config: await this.readConfig(folder) }
  }

  private async readConfig(folder: string): Promise<RepoConfig> {
    try {
      return parseConfig(JSON.parse(await readFile(join(folder, '.mock.json'), 'utf8')))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return parseConfig({})
      throw err
    }
  }

  /** The repo that lists `ref.id` in its `renamedFrom`. */
  async findRenamed(ref: RepoRef): Promise<RepoRef | null> {
    const typeFolder = join(this.root, `${ref.type}s`)
    const candidates: string[] = []
    for (const a of await readdir(typeFolder, { withFileTypes: true }).catch(() => [])) {
      if (!a.isDirectory() || a.name.startsWith('.')) continue
      candidates.push(a.name)
      for (const b of await readdir(join(typeFolder, a.name), { withFileTypes: true }).catch(() => [])) {
        if (b.isDirectory() && !b.name.startsWith('.')) candidates.push(`${a.name}/${b.name}`)
      }
    }
    for (const id of candidates) {
      const folder = join(typeFolder, ...id.split('/'))
      const config = await this.readConfig(folder).catch(() => null)
      if (config?.renamedFrom.includes(ref.id)) return { type: ref.type, id }
    }
    return null
  }

  /** Branch name → branch folder. */
  async branches(repo: Repo): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const d of await readdir(repo.folder, { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue
      const folder = join(repo.folder, d.name)
      if (d.isDirectory() || (d.isSymbolicLink() && (await isDirectory(folder)))) {
        out.set(branchFromFolder(d.name), folder)
      }
    }
    return out
  }

  /** The snapshot a revision (branch, `HEAD`, or 40-hex commit) points to, or null. */
  async resolveRevision(repo: Repo, revision: string): Promise<Snapshot | null> {
    const branches = await this.branches(repo)
    const branch = revision === 'HEAD' ? DEFAULT_BRANCH : revision
    const folder = branches.get(branch)
    if (folder) return this.snapshot(repo, branch, folder)
    if (!COMMIT_RE.test(revision)) return null
    for (const [name, f] of branches) {
      const s = await this.snapshot(repo, name, f)
      if (s.commit === revision) return s
    }
    return null
  }

  /** Every branch snapshot of every repo, hashed (Xet hashes included when `xet`). */
  async warm(xet: boolean): Promise<void> {
    for (const type of ['model', 'dataset', 'space'] as const) {
      const typeFolder = join(this.root, `${type}s`)
      for (const a of await readdir(typeFolder).catch(() => [])) {
        for (const id of await this.repoIdsUnder(typeFolder, a)) {
          const repo = await this.findRepo({ type, id })
          if (!repo) continue
          for (const [branch, folder] of await this.branches(repo)) {
            const snapshot = await this.snapshot(repo, branch, folder)
            if (xet)
              await Promise.all([...snapshot.files.values()].map((f) => f.lfs && this.hashes.xetHash(f)))
          }
        }
      }
    }
  }

  /** `a` is an org folder when none of its children holds a file directly. */
  private async repoIdsUnder(typeFolder: string, a: string): Promise<string[]> {
    if (a.startsWith('.')) return []
    const children = await readdir(join(typeFolder, a), { withFileTypes: true }).catch(() => [])
    const dirs = children.filter((c) => c.isDirectory() && !c.name.startsWith('.'))
    const holdsFiles = await Promise.all(
      dirs.map(async (d) =>
        (await readdir(join(typeFolder, a, d.name), { withFileTypes: true })).some(
          (e) => !e.isDirectory() && !e.name.startsWith('.'),
        ),
      ),
    )
    return holdsFiles.some(Boolean) ? [a] : dirs.map((d) => `${a}/${d.name}`)
  }

  /** Forgets scanned branch folders (file hashes stay cached by size and mtime). */
  rescan(): void {
    this.snapshots.clear()
  }

  private snapshot(repo: Repo, branch: string, folder: string): Promise<Snapshot> {
    const key = folder
    const hit = this.snapshots.get(key)
    if (hit && Date.now() - hit.at < this.scanTtlMs()) return hit.snapshot
    const snapshot = scanSnapshot({ repo: repo.ref, branch, folder, hashes: this.hashes })
    const entry = { at: Date.now(), snapshot }
    this.snapshots.set(key, entry)
    snapshot.catch(() => {
      if (this.snapshots.get(key) === entry) this.snapshots.delete(key)
    })
    return snapshot
  }
}
