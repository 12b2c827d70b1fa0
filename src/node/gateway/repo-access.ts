import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RepoRef } from '../../store/hf-cache/index.ts'
import { errorMessage, type Logger } from '../logger.ts'
import { MAX_REMEMBERED_REPO_ACCESS } from './constants.ts'

/**
 * What the upstream Hub last said about who may download a repo's files: `public` (anyone), `gated` (only
 * accounts granted access), `private` (only its owners; the Hub also answers so for a repo that does not
 * exist, which is harmless here).
 */
export type RepoAccess = 'public' | 'gated' | 'private'

/** `HFFS_HOME/gateway-access.json`: the gateway's own file, so that nothing else has to change for it. */
export function repoAccessPath(home: string): string {
  return join(home, 'gateway-access.json')
}

/** One upstream answer about a repo, as the routes saw it. */
export interface UpstreamVerdict {
  status: number
  /** `X-Error-Code`. */
  errorCode: string | null
  /** Whether the client sent an Authorization header (an answer to an anonymous request says more). */
  withAuthorization: boolean
  /** A resolve (file) request: only those tell a gated repo from a public one (listings of both are open). */
  fileRoute: boolean
}

/**
 * The access the upstream Hub showed for each repo, remembered across restarts: when the upstream cannot
 * be reached, the gateway decides from it whom to serve what the node holds (see offline-access.ts).
 * Learned from the upstream's answers to the gateway's clients: a 401/403 `GatedRepo` → gated, a 401/404
 * `RepoNotFound` → private, an anonymous file download allowed → public, and repo info's `private` and
 * `gated` fields. A repo it never saw counts as not public.
 */
export class RepoAccessBook {
  private readonly path: string
  private readonly log: Logger
  private readonly repos: Map<string, RepoAccess>
  private writing: Promise<void> = Promise.resolve()

  constructor(init: { path: string; log: Logger }) {
    this.path = init.path
    this.log = init.log
    this.repos = readBook(init.path, init.log)
  }

  get(repo: RepoRef): RepoAccess | null {
    return this.repos.get(keyOf(repo)) ?? null
  }

  learnFromAnswer(repo: RepoRef, v: UpstreamVerdict): void {
    if (v.errorCode === 'GatedRepo' && (v.status === 401 || v.status === 403)) return this.set(repo, 'gated')
    if (v.errorCode === 'RepoNotFound' && (v.status === 401 || v.status === 404))
      return this.set(repo, 'private')
    if (v.fileRoute && !v.withAuthorization && v.status >= 200 && v.status < 400) this.set(repo, 'public')
  }

  /** The Hub's repo info (`private`, `gated`: false | "auto" | "manual"), as far as the answer holds them. */
  learnFromInfo(repo: RepoRef, info: unknown): void {
    if (typeof info !== 'object' || info === null) return
    const { private: priv, gated } = info as { private?: unknown; gated?: unknown }
    if (priv === true) this.set(repo, 'private')
    else if (gated === true || gated === 'auto' || gated === 'manual') this.set(repo, 'gated')
    else if (priv === false && gated === false) this.set(repo, 'public')
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.writing
  }

  private set(repo: RepoRef, access: RepoAccess): void {
    const key = keyOf(repo)
    if (this.repos.get(key) === access) return
    this.repos.delete(key) // re-inserted last: the oldest entries are the ones dropped over the bound
    this.repos.set(key, access)
    while (this.repos.size > MAX_REMEMBERED_REPO_ACCESS)
      this.repos.delete(this.repos.keys().next().value as string)
    const text = JSON.stringify({ version: 1, repos: Object.fromEntries(this.repos) }, null, 1) + '\n'
    this.writing = this.writing.then(() =>
      writeAtomically(this.path, text).catch((err: unknown) =>
        this.log.warn(`cannot write ${this.path}: ${errorMessage(err)}`),
      ),
    )
  }
}

const keyOf = (repo: RepoRef): string => `${repo.type}/${repo.id}`
const ACCESS = new Set<string>(['public', 'gated', 'private'])

function readBook(path: string, log: Logger): Map<string, RepoAccess> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log.warn(`cannot read ${path}: ${errorMessage(err)}`)
    return new Map()
  }
  try {
    const { repos } = JSON.parse(text) as { repos?: Record<string, unknown> }
    // Anything unreadable is dropped: a repo the book does not know is served offline on loopback only.
    return new Map(
      Object.entries(repos ?? {}).filter((e): e is [string, RepoAccess] => ACCESS.has(String(e[1]))),
    )
  } catch (err) {
    log.warn(`${path} is not valid JSON, starting afresh: ${errorMessage(err)}`)
    return new Map()
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, text, { mode: 0o600 })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
