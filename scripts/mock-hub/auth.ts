import type { IncomingMessage } from 'node:http'
import { gatedRepo, invalidCredentials, repoNotFound } from './errors.ts'
import type { Repo } from './repo-store.ts'

/** Who is asking: no token, a valid one, or none of the configured ones. */
export type Caller = { kind: 'anonymous' } | { kind: 'user'; token: string }

/**
 * Reads `Authorization: Bearer <token>`. With no tokens configured, tokens are ignored
 * (a stray HF_TOKEN in the environment must not break public downloads); otherwise an
 * unknown token is refused like the Hub does.
 */
export function identifyCaller(req: IncomingMessage, tokens: Set<string>): Caller {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  if (!match || tokens.size === 0) return { kind: 'anonymous' }
  if (!tokens.has(match[1])) throw invalidCredentials()
  return { kind: 'user', token: match[1] }
}

/** Private repos are hidden from anonymous callers; gated ones only hide their files. */
export function checkAccess(repo: Repo, caller: Caller, fileContent: boolean): void {
  if (repo.config.private && caller.kind === 'anonymous') throw repoNotFound(false)
  if (!fileContent || canReadContent(repo, caller)) return
  throw gatedRepo(`${repo.ref.type} ${repo.ref.id}`, caller.kind === 'user')
}

/** Whether the caller may download the repo's files (false only for gated repos). */
export function canReadContent(repo: Repo, caller: Caller): boolean {
  if (!repo.config.gated) return true
  if (caller.kind === 'anonymous') return false
  const granted = repo.config.grantedTokens
  return !granted || granted.includes(caller.token)
}
