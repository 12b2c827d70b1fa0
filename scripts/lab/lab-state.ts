/** The JSON that `lab.sh up` writes: what a test needs to know about a running lab. */

/** The lab's networks: the two sites and the hub link. */
export type LabNet = 'a' | 'b' | 'hub'

export interface LabIface {
  /** Interface name inside the host's namespace (eth0, eth1). */
  name: string
  ip: string
  prefixLength: number
  net: LabNet
}

export interface LabHost {
  /** a1..aN, b1..bN, relay, gw, hub */
  name: string
  /** Network namespace, `<id>-<name>`. */
  ns: string
  /** The network the host lives on; null for the relay, which is on both sites. */
  site: LabNet | null
  role: 'peer' | 'relay' | 'gateway' | 'hub'
  /** The host's first address (for the relay: its site A leg). */
  ip: string
  ifaces: LabIface[]
}

export interface LabState {
  /** Run id, `hl` + 4 hex digits. */
  id: string
  /** Prefix of every namespace and interface the run makes. */
  prefix: string
  stateFile: string
  ownerPid: number
  /** tc rate of the hub link, e.g. `100mbit`. */
  hubRate: string
  hubRateBitsPerSec: number
  nets: Record<LabNet, string>
  switches: Record<'a' | 'b', { ns: string; bridge: string }>
  hosts: Record<string, LabHost>
}

export class LabStateError extends Error {
  override name = 'LabStateError'
}

const ID_RE = /^hl[0-9a-f]{4}$/

/** Parses a state file's text; throws LabStateError if it is not one. */
export function parseLabState(text: string): LabState {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new LabStateError(`lab state is not JSON: ${(err as Error).message}`)
  }
  const state = value as Partial<LabState> | null
  if (typeof state?.id !== 'string' || !ID_RE.test(state.id))
    throw new LabStateError('lab state has no run id')
  if (typeof state.hosts !== 'object' || state.hosts === null || Object.keys(state.hosts).length === 0) {
    throw new LabStateError('lab state lists no hosts')
  }
  for (const [name, host] of Object.entries(state.hosts)) {
    if (host.name !== name || !host.ns?.startsWith(`${state.id}-`) || !Array.isArray(host.ifaces)) {
      throw new LabStateError(`lab state: bad host ${name}`)
    }
  }
  return state as LabState
}
