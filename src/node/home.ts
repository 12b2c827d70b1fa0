import { homedir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CHUNK_CACHE_BYTES } from '../store/chunk-cache/constants.ts'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Where this node keeps its own state: `HFFS_HOME`, else `$XDG_CACHE_HOME/hffs-node`, else `~/.cache/hffs-node`. */
export function resolveNodeHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HFFS_HOME !== undefined && env.HFFS_HOME !== '') return env.HFFS_HOME
  const cacheRoot =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== ''
      ? env.XDG_CACHE_HOME
      : join(homedir(), '.cache')
  return join(cacheRoot, 'hffs-node')
}

export function indexPath(home: string): string {
  return join(home, 'index.sqlite')
}

export function chunkCacheDir(home: string): string {
  return join(home, 'chunks')
}

/** The chunk cache size limit: `HFFS_CHUNK_CACHE_BYTES` (0 disables), else hf_xet's 10 GB default. */
export function chunkCacheLimit(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.HFFS_CHUNK_CACHE_BYTES
  if (raw === undefined || raw === '') return DEFAULT_CHUNK_CACHE_BYTES
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ConfigError(`HFFS_CHUNK_CACHE_BYTES must be a whole number of bytes, got "${raw}"`)
  }
  return n
}

/** The daemon's Ed25519 private key (protobuf), mode 0600: the node's peer id. */
export function peerKeyPath(home: string): string {
  return join(home, 'peer.key')
}

/** Settings of the daemon: ports, listen addresses, bootstrap peers, mDNS, chunk cache size. */
export function nodeConfigPath(home: string): string {
  return join(home, 'config.json')
}

/** The bearer token of the control API, mode 0600. */
export function controlTokenPath(home: string): string {
  return join(home, 'control.token')
}

/** Written by a running daemon: its pid, control port and addresses. */
export function daemonInfoPath(home: string): string {
  return join(home, 'daemon.json')
}

/** Held (O_EXCL) by the one daemon of this home, with its pid. */
export function daemonLockPath(home: string): string {
  return join(home, 'daemon.lock')
}

/** stdout and stderr of a detached daemon. */
export function daemonLogPath(home: string): string {
  return join(home, 'daemon.log')
}

/** Peers added by hand (`hffs-node peer add`), dialled at every start. */
export function manualPeersPath(home: string): string {
  return join(home, 'peers.json')
}
