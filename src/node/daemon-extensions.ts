import type { DaemonExtension } from './daemon-parts.ts'
import { swarmExtension } from './swarm-extension.ts'

/**
 * The extensions `hffs-node start` runs: the wire protocols (manifest, have, chunks) and the download
 * engine behind `model add`.
 */
export const daemonExtensions: DaemonExtension[] = [swarmExtension()]
