import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { ConfigError, peerKeyPath } from './home.ts'

/**
 * The node's identity: an Ed25519 key in `HFFS_HOME/peer.key` (protobuf, mode 0600), made on first use,
 * so that the peer id stays the same across restarts.
 */
export async function loadOrCreatePeerKey(home: string): Promise<PrivateKey> {
  const path = peerKeyPath(home)
  let bytes: Uint8Array | null = null
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (bytes !== null) {
    // A key that others can read is no secret: tighten it rather than refuse to start.
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600)
    try {
      return privateKeyFromProtobuf(bytes)
    } catch {
      throw new ConfigError(`${path} is not a libp2p private key; move it away to make a new identity`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(home, { recursive: true })
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  return key
}
