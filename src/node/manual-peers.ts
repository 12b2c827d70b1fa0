import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { ConfigError, manualPeersPath } from './home.ts'

/** A peer added by hand: dialled at every start, redialled when it drops. */
export interface ManualPeer {
  /** Full multiaddr, with /p2p/<peer id>. */
  addr: string
  peerId: string
  /** What the user typed (`192.168.1.5 --port 4001` is kept as `192.168.1.5:4001`). */
  input: string
  addedAt: string
  /** Added with `--trust`: its snapshot listings are believed offline and it is served gated repos. */
  trusted?: boolean
}

interface PeersFile {
  version: 1
  peers: ManualPeer[]
}

/** Reads `HFFS_HOME/peers.json`; absent → no peers. */
export async function readManualPeers(home: string): Promise<ManualPeer[]> {
  const path = manualPeersPath(home)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  let file: PeersFile
  try {
    file = JSON.parse(text) as PeersFile
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON (${(err as Error).message})`)
  }
  if (file === null || typeof file !== 'object' || !Array.isArray(file.peers))
    throw new ConfigError(`${path}: expected {"version": 1, "peers": [...]}`)
  return file.peers.filter(
    (p) => p !== null && typeof p === 'object' && typeof p.addr === 'string' && typeof p.peerId === 'string',
  )
}

/** Replaces `HFFS_HOME/peers.json` atomically. */
export async function writeManualPeers(home: string, peers: readonly ManualPeer[]): Promise<void> {
  const path = manualPeersPath(home)
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  const file: PeersFile = { version: 1, peers: [...peers] }
  try {
    await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
