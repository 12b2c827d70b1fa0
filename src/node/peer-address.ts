import { isIP } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_IP4, CODE_IP6, CODE_P2P, CODE_TCP, multiaddr, type Multiaddr } from '@multiformats/multiaddr'

export class PeerAddressError extends Error {
  override name = 'PeerAddressError'
}

/**
 * What `peer add` dials: a multiaddr as given (with /p2p/ it names the peer), or an IP or host name with a
 * port — the peer's libp2p port — as `/ip4/IP/tcp/PORT`. `IP:PORT` and `[IPv6]:PORT` work too.
 */
export function parsePeerAddress(input: string, port?: number): Multiaddr {
  const text = input.trim()
  if (text.startsWith('/')) {
    if (port !== undefined) throw new PeerAddressError('--port goes with an IP address, not a multiaddr')
    try {
      return multiaddr(text)
    } catch (err) {
      throw new PeerAddressError(`"${text}" is not a multiaddr: ${(err as Error).message}`)
    }
  }
  const { host, port: inlinePort } = splitHostPort(text)
  if (inlinePort !== undefined && port !== undefined && inlinePort !== port)
    throw new PeerAddressError(`two ports given: ${text} and --port ${port}`)
  const p = port ?? inlinePort
  if (p === undefined)
    throw new PeerAddressError(
      `give the peer's libp2p port: --port PORT (its \`hffs-node status\` lists its addresses)`,
    )
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new PeerAddressError(`bad port ${p}`)
  const family = isIP(host)
  if (family === 4) return multiaddr(`/ip4/${host}/tcp/${p}`)
  if (family === 6) return multiaddr(`/ip6/${host}/tcp/${p}`)
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host))
    return multiaddr(`/dns/${host}/tcp/${p}`)
  throw new PeerAddressError(`"${text}" is neither an IP address, a host name nor a multiaddr`)
}

function splitHostPort(text: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (v6 !== null) return { host: v6[1], port: v6[2] === undefined ? undefined : Number(v6[2]) }
  const v4 = /^([^:]+):(\d+)$/.exec(text)
  if (v4 !== null) return { host: v4[1], port: Number(v4[2]) }
  return { host: text }
}

/** The peer id a multiaddr names (its last /p2p/ part), or null. */
export function peerIdOf(ma: Multiaddr): string | null {
  const p2p = ma.getComponents().findLast((c) => c.code === CODE_P2P)
  return p2p?.value ?? null
}

/** The multiaddr with its peer id part removed: what a transport dials. */
export function withoutPeerId(ma: Multiaddr): Multiaddr {
  return multiaddr(ma.getComponents().filter((c) => c.code !== CODE_P2P))
}

/** Whether `input` (what `peer rm` got) designates the manual peer at `addr` with id `peerId`. */
export function matchesPeer(input: string, addr: string, peerId: string): boolean {
  const text = input.trim()
  if (isPeerId(text)) return text === peerId
  const target = multiaddr(addr)
  if (text.startsWith('/')) {
    const ma = parsePeerAddress(text)
    const id = peerIdOf(ma)
    if (id !== null && id !== peerId) return false
    const bare = withoutPeerId(ma)
    return bare.getComponents().length === 0 || bare.toString() === withoutPeerId(target).toString()
  }
  const { host, port } = splitHostPort(text)
  const parts = target.getComponents()
  const ip = parts.find((c) => c.code === CODE_IP4 || c.code === CODE_IP6 || c.name.startsWith('dns'))
  const tcp = parts.find((c) => c.code === CODE_TCP)
  return ip?.value === host && (port === undefined || Number(tcp?.value) === port)
}

function isPeerId(text: string): boolean {
  if (text.startsWith('/') || text.includes('.') || text.includes(':')) return false
  try {
    peerIdFromString(text)
    return true
  } catch {
    return false
  }
}
