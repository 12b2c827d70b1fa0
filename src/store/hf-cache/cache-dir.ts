import { homedir, userInfo } from 'node:os'
import { join, resolve } from 'node:path'

/** The environment variables the cache location depends on. */
export type CacheEnv = Record<string, string | undefined>

/**
 * The hub cache folder, resolved as huggingface_hub does: HF_HUB_CACHE, then
 * HUGGINGFACE_HUB_CACHE, then $HF_HOME/hub with HF_HOME defaulting to
 * $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface; `~` and `$VAR` are expanded.
 * Empty variables count as unset. The result is absolute (lexically resolved, symlinks kept).
 */
export function resolveHubCacheDir(env: CacheEnv = process.env): string {
  const hfHome = expandPath(
    nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homeOf(env), '.cache'), 'huggingface'),
    env,
  )
  const hubCache = nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome, 'hub')
  return resolve(expandPath(hubCache, env))
}

/** Python's `os.path.expandvars(os.path.expanduser(p))` on POSIX. */
export function expandPath(p: string, env: CacheEnv = process.env): string {
  return expandVars(expandUser(p, env), env)
}

/** Python's posix `expanduser`: `~` and `~/…` use $HOME; `~user` works for the current user only. */
export function expandUser(p: string, env: CacheEnv = process.env): string {
  if (!p.startsWith('~')) return p
  const slash = p.indexOf('/', 1)
  const end = slash < 0 ? p.length : slash
  const user = p.slice(1, end)
  let home: string
  if (user === '') home = homeOf(env)
  else if (user === currentUserName()) home = homedir()
  else return p
  const trimmed = home.replace(/\/+$/, '')
  return trimmed + p.slice(end) || '/'
}

/** Python's posix `expandvars`: `$NAME` and `${NAME}` are replaced when set, left as-is otherwise. */
export function expandVars(p: string, env: CacheEnv = process.env): string {
  if (!p.includes('$')) return p
  return p.replace(/\$(\w+|\{[^}]*\})/g, (match, group: string) => {
    const name = group.startsWith('{') ? group.slice(1, -1) : group
    const value = env[name]
    return value === undefined ? match : value
  })
}

function homeOf(env: CacheEnv): string {
  return env.HOME ?? homedir()
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function currentUserName(): string | undefined {
  try {
    return userInfo().username
  } catch {
    return undefined
  }
}
