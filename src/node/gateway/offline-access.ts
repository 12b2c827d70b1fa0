import { isIPv4, isIPv6 } from 'node:net'
import type { RepoRef } from '../../store/hf-cache/index.ts'
import type { ControlRequest } from '../control-server.ts'
import type { GatewayParts } from './gateway-parts.ts'
import { GatewayError } from './hub-answer.ts'
import type { KnownSnapshot } from './known-snapshot.ts'
import type { RepoAccess } from './repo-access.ts'

/** Whether an address is on the loopback network: 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address
  if (isIPv4(v4)) return v4.startsWith('127.')
  return isIPv6(address) && (address === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(address))
}

/**
 * A client on this machine: the connection came in over the loopback interface, so both of its ends are
 * loopback addresses. A client reaching a `--gateway-listen` listener through a LAN address is not one,
 * even from this machine.
 */
export function isLoopbackClient(socket: { remoteAddress?: string; localAddress?: string }): boolean {
  return isLoopbackAddress(socket.remoteAddress) && isLoopbackAddress(socket.localAddress)
}

export interface OfflineAccessParams {
  repo: RepoRef
  /** What the upstream last showed of the repo's access (null: never seen). */
  access: RepoAccess | null
  loopback: boolean
  /** Where the answer would come from. */
  origin: KnownSnapshot['origin']
}

/**
 * Whether the node may answer from what it knows when the upstream could not check the client's access:
 * a repo the upstream showed as public, to anyone; anything else only to clients on the node's own machine,
 * and a gated or private repo only when the node's owner pulled it (its index or cache has it, not only a
 * peer). The refusal is the Hub's: 401 `GatedRepo`, or 401 `RepoNotFound` (which does not tell a private
 * repo from one never seen). Null: allowed.
 */
export function offlineAccessDenial(p: OfflineAccessParams): GatewayError | null {
  if (p.access === 'public') return null
  if (p.loopback && (p.access === null || p.origin !== 'peer')) return null
  const why =
    'the upstream Hub cannot be reached to check access, and without it this node serves the repo only to clients on its own machine'
  if (p.access === 'gated') {
    return new GatewayError(401, 'GatedRepo', `Access to ${p.repo.type} ${p.repo.id} is restricted: ${why}.`)
  }
  return new GatewayError(401, 'RepoNotFound', `Repository not found: ${why}.`)
}

/** Throws offlineAccessDenial()'s refusal for this request, when there is one. */
export function checkOfflineAccess(
  gw: GatewayParts,
  req: ControlRequest,
  repo: RepoRef,
  known: KnownSnapshot,
): void {
  const denial = offlineAccessDenial({
    repo,
    access: gw.access.get(repo),
    loopback: isLoopbackClient(req.raw.socket),
    origin: known.origin,
  })
  if (denial !== null) throw denial
}
