/**
 * The Helia (bitswap) baseline of the swarm benchmark, on the node's own transport stack (TCP + Noise +
 * Yamux from src/node/libp2p-node.ts) with identify only: no bootstrap, no mDNS, no DHT, no delegated or
 * HTTP routing, listening on 127.0.0.1 only. Any connection or discovered peer outside 127.0.0.1 ends the
 * process with an error.
 *   node scripts/bench/helia-child.ts --role seeder --blocks DIR --files A,B
 *     imports the files into a blockstore-fs under DIR (unixfs, default chunking), prints
 *     `helia-seeder listening <multiaddr> cids <cid>,<cid>`, then serves the blocks over bitswap.
 *   node scripts/bench/helia-child.ts --role seeder --blocks DIR --cids X,Y
 *     serves blocks another seeder already imported into DIR (same line, no import).
 *   node scripts/bench/helia-child.ts --role leecher --dial M1,M2
 *     dials every seeder, waits until each speaks bitswap, prints `helia ready`; for each stdin line
 *     `go OUTDIR CID,CID` writes each file (unixfs.cat) to OUTDIR/file-<i>, prints `done <bytes>` (or
 *     `failed <message>`). Blocks are not kept (a black-hole blockstore): only the files are written.
 * Both run until SIGTERM (the leecher also until stdin ends). The parent bounds every wait.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { BlackHoleBlockstore } from 'blockstore-core'
import { FsBlockstore } from 'blockstore-fs'
import { createHeliaLight, type Helia } from 'helia'
import { CID } from 'multiformats/cid'
import { transportStack } from '../../src/node/libp2p-node.ts'

const BITSWAP_PREFIX = '/ipfs/bitswap/'
const READY_TIMEOUT_MS = 60_000

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    blocks: { type: 'string' },
    files: { type: 'string' },
    cids: { type: 'string' },
    dial: { type: 'string' },
  },
  strict: true,
})

type HeliaNode = Helia & { libp2p: Libp2p }

async function createNode(
  blockstore: FsBlockstore | BlackHoleBlockstore,
  listen: string[],
): Promise<HeliaNode> {
  const helia = withBitswap(
    withLibp2pLight(createHeliaLight({ blockstore }), {
      addresses: { listen },
      ...transportStack(),
      services: { identify: identify() },
    }),
  )
  await helia.start()
  const { libp2p } = helia
  // The baseline must stay on this machine's loopback, whatever Helia's or libp2p's defaults become.
  libp2p.addEventListener('connection:open', (evt) => expectLoopback(evt.detail.remoteAddr))
  libp2p.addEventListener('peer:discovery', (evt) => evt.detail.multiaddrs.forEach(expectLoopback))
  return helia
}

function expectLoopback(addr: Multiaddr): void {
  if (addr.toString().startsWith('/ip4/127.0.0.1/')) return
  console.error(`helia-child: refusing an address outside 127.0.0.1: ${addr.toString()}`)
  process.exit(3)
}

async function runSeeder(dir: string, files: string[] | null, cids: string[] | null): Promise<HeliaNode> {
  const blockstore = new FsBlockstore(dir)
  await blockstore.open()
  const helia = await createNode(blockstore, ['/ip4/127.0.0.1/tcp/0'])
  const served = cids ?? []
  for (const path of files ?? [])
    served.push((await unixfs(helia).addByteStream(createReadStream(path))).toString())
  for (const cid of served) {
    if (!(await blockstore.has(CID.parse(cid)))) throw new Error(`no block ${cid} under ${dir}`)
  }
  console.log(`helia-seeder listening ${helia.libp2p.getMultiaddrs()[0].toString()} cids ${served.join(',')}`)
  return helia
}

async function runLeecher(targets: string[]): Promise<HeliaNode> {
  const helia = await createNode(new BlackHoleBlockstore(), [])
  const peers = await Promise.all(
    targets.map(async (t) => (await helia.libp2p.dial(multiaddr(t))).remotePeer),
  )
  await waitForBitswap(helia.libp2p, peers)
  console.log('helia ready')
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const m = /^go (\S+) (\S+)$/.exec(line)
    if (m === null) return
    catInto(helia, m[1], m[2].split(',')).then(
      (bytes) => console.log(`done ${bytes}`),
      (err: Error) => console.log(`failed ${err.message}`),
    )
  })
  lines.once('close', () => void stopAndExit(helia))
  return helia
}

/** Bitswap sends wants only to peers that identify says speak it. */
async function waitForBitswap(libp2p: Libp2p, peers: PeerId[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (const peer of peers) {
    for (;;) {
      const { protocols } = await libp2p.peerStore.get(peer)
      if (protocols.some((p) => p.startsWith(BITSWAP_PREFIX))) break
      if (Date.now() > deadline) throw new Error(`${peer.toString()} does not speak bitswap`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/** Writes each file as cat yields it; returns the bytes written. */
async function catInto(helia: HeliaNode, dir: string, cids: string[]): Promise<number> {
  const fs = unixfs(helia)
  let bytes = 0
  for (const [i, cid] of cids.entries()) {
    const fh = await open(join(dir, `file-${i}`), 'w')
    try {
      for await (const buf of fs.cat(CID.parse(cid))) {
        await fh.write(buf)
        bytes += buf.byteLength
      }
    } finally {
      await fh.close()
    }
  }
  return bytes
}

async function stopAndExit(helia: HeliaNode): Promise<never> {
  await helia.stop()
  process.exit(0)
}

let node: HeliaNode
if (values.role === 'seeder' && values.blocks !== undefined && (values.files ?? values.cids) !== undefined)
  node = await runSeeder(values.blocks, values.files?.split(',') ?? null, values.cids?.split(',') ?? null)
else if (values.role === 'leecher' && values.dial !== undefined)
  node = await runLeecher(values.dial.split(','))
else {
  console.error(
    'usage: helia-child.ts --role seeder --blocks DIR (--files A,B | --cids X,Y) | --role leecher --dial M1,M2',
  )
  process.exit(2)
}
process.once('SIGTERM', () => void stopAndExit(node))
