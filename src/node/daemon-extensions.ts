import type { DaemonExtension } from './daemon-parts.ts'
import { gatewayExtension } from './gateway/index.ts'
import { swarmExtension } from './swarm-extension.ts'

const swarm = swarmExtension()

/**
 * The extensions `hffs-node start` runs: the swarm (wire protocols and the download engine behind
 * `model add`) and the HF-compatible gateway, whose pulls take part in the swarm's.
 */
export const daemonExtensions: DaemonExtension[] = [
  swarm,
  gatewayExtension({ swarmPull: (signal) => swarm.pullOptions(signal) }),
]
