import { readFile } from 'node:fs/promises'
import { generateKey } from '@libp2p/pnet'
import { ConfigError } from './home.ts'

/** The first two lines of a libp2p (and IPFS/Kubo) private-network key file. */
const HEADER = ['/key/swarm/psk/1.0.0/', '/base16/']
const KEY_HEX = /^[0-9a-fA-F]{64}$/

/** A new swarm key in the standard three-line format, as `swarm-key generate` prints it. */
export function generateSwarmKey(): string {
  const bytes = new Uint8Array(HEADER.join('\n').length + 1 + 64)
  generateKey(bytes)
  return `${new TextDecoder().decode(bytes)}\n`
}

/**
 * Checks a swarm key file's text and returns it in canonical form (what @libp2p/pnet's preSharedKey takes).
 * Stricter than pnet's own decoder, which ignores the header lines: a file that is not a key is an error
 * here, not a private network nobody else can join.
 */
export function parseSwarmKey(text: string, source: string): Uint8Array {
  const lines = text.split(/\r?\n/).map((l) => l.trim())
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  if (lines.length !== 3 || lines[0] !== HEADER[0] || lines[1] !== HEADER[1] || !KEY_HEX.test(lines[2])) {
    throw new ConfigError(
      `${source}: not a swarm key (expected "${HEADER[0]}", "${HEADER[1]}" and 64 hex digits; make one with \`hffs-node swarm-key generate\`)`,
    )
  }
  return new TextEncoder().encode(`${HEADER.join('\n')}\n${lines[2].toLowerCase()}`)
}

/** Reads and checks a swarm key file; a missing, unreadable or malformed file is a one-line ConfigError. */
export async function loadSwarmKey(path: string): Promise<Uint8Array> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code
    throw new ConfigError(`swarm key ${path}: cannot read it (${why})`)
  }
  return parseSwarmKey(text, `swarm key ${path}`)
}
