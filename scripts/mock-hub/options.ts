import { SCAN_TTL_MS, TREE_EXPAND_PAGE_SIZE, TREE_PAGE_SIZE } from './constants.ts'

/**
 * A fault injected into file-content responses (resolve, resolve-cache, CDN).
 * `count` bounds how many responses it hits; without it, `status` hits one response and
 * the others hit every response until the faults are changed.
 */
export type Fault =
  | { kind: 'drop-after'; bytes: number; count?: number }
  | { kind: 'status'; status: number; count?: number }
  | { kind: 'corrupt'; count?: number }

/** The knobs that `setOptions()` may change while the hub runs. */
export interface MockHubKnobs {
  /** Bandwidth shared by all connections, in bytes per second; 0 or undefined: unlimited. */
  rateBytesPerSec?: number
  /** Delay before every request is answered (default 0). */
  latencyMs?: number
  /** Faults, in the order they are tried (default none). Strings use the CLI syntax. */
  faults?: (Fault | string)[]
  /** Bearer tokens that are valid; private and gated repos need one (default none). */
  tokens?: string[]
  /** Tree page size (default `TREE_PAGE_SIZE`), and with `expand=true` (default `TREE_EXPAND_PAGE_SIZE`). */
  treePageSize?: number
  treeExpandPageSize?: number
  /**
   * Answer branch-name resolves of regular files with the Hub's relative
   * `307 → /api/resolve-cache/...` (default true).
   */
  resolveCacheRedirect?: boolean
  /** How long a scanned branch folder is reused (default `SCAN_TTL_MS`). */
  scanTtlMs?: number
  /**
   * List `xetHash` for LFS files in tree and paths-info (default true). huggingface_hub >= 1.22
   * with hf_xet installed skips the HEAD of files listed with a `xetHash` and downloads them
   * over Xet, which this mock does not serve: turn this off for such clients (or set
   * HF_HUB_DISABLE_XET=1 on them).
   */
  xetHashes?: boolean
}

export interface MockHubOptions extends MockHubKnobs {
  /** Folder holding `{models,datasets,spaces}/{org}/{name}/{branch}/...`. */
  root: string
  /** Port to listen on (default 0: any free port). */
  port?: number
  /** Address to listen on (default 127.0.0.1). */
  host?: string
  /** Where unexpected server errors are reported (default: nowhere). */
  log?: (msg: string) => void
}

/** Knobs with their defaults applied. */
export interface ResolvedKnobs {
  rateBytesPerSec: number
  latencyMs: number
  faults: Fault[]
  tokens: Set<string>
  treePageSize: number
  treeExpandPageSize: number
  resolveCacheRedirect: boolean
  scanTtlMs: number
  xetHashes: boolean
}

export class InvalidFaultError extends Error {
  override name = 'InvalidFaultError'
}

/** Parses `drop-after:N[:count]`, `status:CODE[:count]` or `corrupt[:count]`. */
export function parseFault(spec: string): Fault {
  const [kind, ...args] = spec.split(':')
  const int = (s: string | undefined, what: string): number | undefined => {
    if (s === undefined || s === '') return undefined
    if (!/^\d+$/.test(s)) throw new InvalidFaultError(`fault ${spec}: ${what} must be a whole number`)
    return Number(s)
  }
  if (kind === 'drop-after' && args.length >= 1 && args.length <= 2) {
    const bytes = int(args[0], 'byte count')
    if (bytes === undefined) throw new InvalidFaultError(`fault ${spec}: missing byte count`)
    return { kind, bytes, count: int(args[1], 'count') }
  }
  if (kind === 'status' && args.length >= 1 && args.length <= 2) {
    const status = int(args[0], 'status')
    if (status === undefined || status < 400 || status > 599) {
      throw new InvalidFaultError(`fault ${spec}: status must be 400-599`)
    }
    return { kind, status, count: int(args[1], 'count') ?? 1 }
  }
  if (kind === 'corrupt' && args.length <= 1) return { kind, count: int(args[0], 'count') }
  throw new InvalidFaultError(
    `unknown fault ${spec} (drop-after:N[:count], status:5xx[:count], corrupt[:count])`,
  )
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be a non-negative number`)
  return value
}

/** Applies `partial` over `base` (the defaults when `base` is undefined). */
export function resolveKnobs(partial: MockHubKnobs, base?: ResolvedKnobs): ResolvedKnobs {
  const pageSize = (v: number | undefined, fallback: number, what: string): number => {
    const n = positive(v, fallback, what)
    if (n < 1 || !Number.isInteger(n)) throw new RangeError(`${what} must be a positive integer`)
    return n
  }
  return {
    rateBytesPerSec: positive(partial.rateBytesPerSec, base?.rateBytesPerSec ?? 0, 'rateBytesPerSec'),
    latencyMs: positive(partial.latencyMs, base?.latencyMs ?? 0, 'latencyMs'),
    faults: partial.faults
      ? partial.faults.map((f) => (typeof f === 'string' ? parseFault(f) : { ...f }))
      : (base?.faults ?? []),
    tokens: partial.tokens ? new Set(partial.tokens) : (base?.tokens ?? new Set()),
    treePageSize: pageSize(partial.treePageSize, base?.treePageSize ?? TREE_PAGE_SIZE, 'treePageSize'),
    treeExpandPageSize: pageSize(
      partial.treeExpandPageSize,
      base?.treeExpandPageSize ?? TREE_EXPAND_PAGE_SIZE,
      'treeExpandPageSize',
    ),
    resolveCacheRedirect: partial.resolveCacheRedirect ?? base?.resolveCacheRedirect ?? true,
    scanTtlMs: positive(partial.scanTtlMs, base?.scanTtlMs ?? SCAN_TTL_MS, 'scanTtlMs'),
    xetHashes: partial.xetHashes ?? base?.xetHashes ?? true,
  }
}
