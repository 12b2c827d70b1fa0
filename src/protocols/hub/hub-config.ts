import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export const DEFAULT_ENDPOINT = 'https://huggingface.co'

export interface HubConfig {
  /** `HF_ENDPOINT` without a trailing slash. */
  endpoint: string
  /** `HF_TOKEN`, else the token file huggingface_hub's `login` writes; null when none. */
  token: string | null
  /** `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`): no request leaves the machine. */
  offline: boolean
}

const TRUTHY = new Set(['1', 'ON', 'YES', 'TRUE'])

/** Reads the Hub settings from the environment with huggingface_hub's names and meanings. */
export function hubConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const endpoint = (
    env.HF_ENDPOINT !== undefined && env.HF_ENDPOINT !== '' ? env.HF_ENDPOINT : DEFAULT_ENDPOINT
  ).replace(/\/+$/, '')
  const offline = [env.HF_HUB_OFFLINE, env.TRANSFORMERS_OFFLINE].some(
    (v) => v !== undefined && TRUTHY.has(v.toUpperCase()),
  )
  return { endpoint, token: readToken(env), offline }
}

function readToken(env: NodeJS.ProcessEnv): string | null {
  if (env.HF_TOKEN !== undefined && env.HF_TOKEN.trim() !== '') return env.HF_TOKEN.trim()
  const hfHome = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface')
  const path = env.HF_TOKEN_PATH ?? join(hfHome, 'token')
  try {
    const token = readFileSync(path, 'utf8').trim()
    return token === '' ? null : token
  } catch {
    return null
  }
}
