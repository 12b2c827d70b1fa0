import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_CHUNK_CACHE_BYTES } from '../store/chunk-cache/constants.ts'
import { DEFAULT_CONTROL_PORT, DEFAULT_LISTEN } from './constants.ts'
import { parseGatewayListenAddress } from './gateway/listen-address.ts'
import { RELAY_MAX_DURATION_CAP_MS, RELAY_MAX_RESERVATIONS } from './relay-constants.ts'
import { chunkCacheLimit, ConfigError, nodeConfigPath } from './home.ts'
import { loadSwarmKey } from './swarm-key.ts'

/** What a daemon runs with: `HFFS_HOME/config.json`, overridden by flags, over the defaults. */
export interface NodeConfig {
  /** Control API port on 127.0.0.1 (0: any free port). Default 9009. */
  port: number
  /** libp2p listen multiaddrs. Default `/ip4/0.0.0.0/tcp/0`. */
  listen: string[]
  /** Peers dialled at start and redialled when they drop; they bootstrap the DHT. Default none. */
  bootstrap: string[]
  /** Find and dial peers on the LAN by multicast DNS. Default true. */
  mdns: boolean
  /** Size bound of the chunk cache; `HFFS_CHUNK_CACHE_BYTES` overrides it. Default 10 GB. */
  chunkCacheBytes: number
  /** Cap on chunk bytes served to peers, bytes/s, all peers together; 0 = none. Default 0. */
  maxUploadRate: number
  /** Cap on chunk bytes received from peers, bytes/s; 0 = none. Default 0. */
  maxDownloadRate: number
  /**
   * Extra `HOST:PORT` listeners that serve only the HF-compatible gateway's routes (never the control API),
   * e.g. `0.0.0.0:8080` for the LAN. Default none: the gateway is on the control port, 127.0.0.1 only.
   */
  gatewayListen?: string[]
  /**
   * Private swarm: path of a libp2p pre-shared key file (`hffs-node swarm-key generate`); only nodes with
   * the same key can connect, and every one of them is trusted. Relative paths in config.json are relative
   * to HFFS_HOME. Absent: an open swarm.
   */
  swarmKey?: string
  // The relay settings are optional: loadNodeConfig always fills them; a config built in code may leave them out.
  /** Circuit relays (multiaddrs with /p2p/ID): reserve a slot on each, advertise /p2p-circuit. Default none. */
  relays?: string[]
  /** Be a circuit-relay v2 server for the swarm. Default false. */
  relayServer?: boolean
  /** Relay server: clients holding a reservation at most. Default RELAY_MAX_RESERVATIONS (128). */
  relayMaxReservations?: number
  /** Relay server: bytes one relayed connection may carry; 0 = no cap. Default 0. */
  relayMaxBytes?: number
  /** Relay server: how long one relayed connection may stay open, ms; 0 = no cap. Default 0. */
  relayMaxDurationMs?: number
}

/** Command-line flags: each one given replaces the config file's value. */
export type NodeConfigFlags = Partial<
  Pick<
    NodeConfig,
    | 'port'
    | 'listen'
    | 'bootstrap'
    | 'mdns'
    | 'maxUploadRate'
    | 'maxDownloadRate'
    | 'gatewayListen'
    | 'swarmKey'
    | 'relays'
    | 'relayServer'
  >
>

export interface LoadNodeConfigParams {
  home: string
  flags?: NodeConfigFlags
  env?: NodeJS.ProcessEnv
}

const KEYS = [
  'port',
  'listen',
  'bootstrap',
  'mdns',
  'chunkCacheBytes',
  'maxUploadRate',
  'maxDownloadRate',
  'gatewayListen',
  'swarmKey',
  'relays',
  'relayServer',
  'relayMaxReservations',
  'relayMaxBytes',
  'relayMaxDurationMs',
] as const

/** Reads and checks `HFFS_HOME/config.json` (absent: defaults), then applies flags and env. */
export async function loadNodeConfig(params: LoadNodeConfigParams): Promise<NodeConfig> {
  const path = nodeConfigPath(params.home)
  let text: string | null = null
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  let fromFile: Partial<NodeConfig> = {}
  if (text !== null) {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (err) {
      throw new ConfigError(`${path}: not valid JSON (${(err as Error).message})`)
    }
    fromFile = parseNodeConfig(raw, path)
    if (typeof fromFile.swarmKey === 'string') fromFile.swarmKey = resolve(params.home, fromFile.swarmKey)
  }
  const flags = parseNodeConfig(dropUndefined(params.flags ?? {}), 'command line')
  if (typeof flags.swarmKey === 'string') flags.swarmKey = resolve(flags.swarmKey)
  const env = params.env ?? process.env
  const config: NodeConfig = {
    port: DEFAULT_CONTROL_PORT,
    listen: DEFAULT_LISTEN,
    bootstrap: [],
    mdns: true,
    chunkCacheBytes: DEFAULT_CHUNK_CACHE_BYTES,
    maxUploadRate: 0,
    maxDownloadRate: 0,
    relays: [],
    relayServer: false,
    relayMaxReservations: RELAY_MAX_RESERVATIONS,
    relayMaxBytes: 0,
    relayMaxDurationMs: 0,
    ...fromFile,
    ...flags,
  }
  if (env.HFFS_CHUNK_CACHE_BYTES !== undefined && env.HFFS_CHUNK_CACHE_BYTES !== '')
    config.chunkCacheBytes = chunkCacheLimit(env)
  // A missing or malformed key file fails here, on the terminal, not in a detached daemon.
  if (config.swarmKey !== undefined) await loadSwarmKey(config.swarmKey)
  return config
}

/** Checks every field of a config object; throws a one-line ConfigError naming `source` and the field. */
export function parseNodeConfig(raw: unknown, source: string): Partial<NodeConfig> {
  const fail = (msg: string): never => {
    throw new ConfigError(`${source}: ${msg}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('must be a JSON object')
  const obj = raw as Record<string, unknown>
  const out: Partial<NodeConfig> = {}
  for (const key of Object.keys(obj)) {
    if (!(KEYS as readonly string[]).includes(key))
      fail(`unknown setting "${key}" (known: ${KEYS.join(', ')})`)
  }
  if (obj.port !== undefined) {
    const p = obj.port
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535)
      fail(`"port" must be a whole number from 0 to 65535, got ${JSON.stringify(p)}`)
    out.port = p as number
  }
  for (const key of ['listen', 'bootstrap'] as const) {
    const v = obj[key]
    if (v === undefined) continue
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
      fail(`"${key}" must be a list of multiaddrs`)
    for (const s of v as string[]) checkMultiaddr(s, key, fail)
    out[key] = [...(v as string[])]
  }
  for (const key of ['mdns', 'relayServer'] as const) {
    if (obj[key] === undefined) continue
    if (typeof obj[key] !== 'boolean') fail(`"${key}" must be true or false, got ${JSON.stringify(obj[key])}`)
    out[key] = obj[key] as boolean
  }
  if (obj.relays !== undefined) out.relays = parseRelays(obj.relays, fail)
  for (const key of ['chunkCacheBytes', 'maxUploadRate', 'maxDownloadRate', 'relayMaxBytes'] as const) {
    const n = obj[key]
    if (n === undefined) continue
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      fail(`"${key}" must be a whole number of bytes, got ${JSON.stringify(n)}`)
    out[key] = n as number
  }
  if (obj.gatewayListen !== undefined) {
    const v = obj.gatewayListen
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
      fail('"gatewayListen" must be a list of HOST:PORT addresses')
    for (const s of v as string[]) {
      if (parseGatewayListenAddress(s) === null)
        fail(`"gatewayListen": "${s}" is not HOST:PORT (e.g. 0.0.0.0:8080 or [::]:8080)`)
    }
    out.gatewayListen = [...(v as string[])]
  }
  if (obj.swarmKey !== undefined) {
    if (typeof obj.swarmKey !== 'string' || obj.swarmKey === '')
      fail(`"swarmKey" must be the path of a swarm key file, got ${JSON.stringify(obj.swarmKey)}`)
    out.swarmKey = obj.swarmKey as string
  }
  if (obj.relayMaxDurationMs !== undefined) {
    const n = obj.relayMaxDurationMs
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > RELAY_MAX_DURATION_CAP_MS)
      fail(
        `"relayMaxDurationMs" must be a whole number of ms from 0 to ${RELAY_MAX_DURATION_CAP_MS}, got ${JSON.stringify(n)}`,
      )
    out.relayMaxDurationMs = n as number
  }
  if (obj.relayMaxReservations !== undefined) {
    const n = obj.relayMaxReservations
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100_000)
      fail(`"relayMaxReservations" must be a whole number from 1 to 100000, got ${JSON.stringify(n)}`)
    out.relayMaxReservations = n as number
  }
  if (out.listen !== undefined && out.listen.length === 0) fail('"listen" needs at least one address')
  return out
}

/** Relay multiaddrs: a reservation is made on a known peer, so each one names it with /p2p/ID. */
function parseRelays(v: unknown, fail: (msg: string) => never): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    fail('"relays" must be a list of multiaddrs')
  for (const s of v as string[]) {
    checkMultiaddr(s, 'relays', fail)
    if (multiaddr(s).getComponents().at(-1)?.name !== 'p2p' || s.includes('/p2p-circuit'))
      fail(`"relays": "${s}" must end with the relay's peer id, e.g. /ip4/192.0.2.1/tcp/4001/p2p/12D3KooW...`)
  }
  return [...(v as string[])]
}

function checkMultiaddr(s: string, field: string, fail: (msg: string) => never): void {
  try {
    multiaddr(s)
  } catch {
    fail(`"${field}": "${s}" is not a multiaddr (e.g. /ip4/192.168.1.2/tcp/4001)`)
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
