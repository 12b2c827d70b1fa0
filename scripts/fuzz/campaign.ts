import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { CHUNKS_PROTOCOL, MAX_BATCH_SIZE, chunksProtocol } from '../../src/protocols/chunks/index.ts'
import { maxWantBytes } from '../../src/protocols/chunks/messages.ts'
import { HAVE_PROTOCOL } from '../../src/protocols/have/index.ts'
import { MAX_REQUEST_BYTES as HAVE_REQUEST_BYTES } from '../../src/protocols/have/constants.ts'
import { INTENT_PROTOCOL } from '../../src/protocols/intent/index.ts'
import { MANIFEST_PROTOCOL } from '../../src/protocols/manifest/index.ts'
import { MAX_REQUEST_BYTES as MANIFEST_REQUEST_BYTES } from '../../src/protocols/manifest/constants.ts'
import { fuzzProtocol, type FuzzTally } from './fuzz-peer.ts'
import { Rng, hostileCases, type Seed } from './hostile-messages.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { joinParts } from '../../src/store/byte-parts.ts'

/** What the target is known to hold, so that valid seeds reach past the parsers into the sources. */
export interface KnownContent {
  repoId: string
  revision: string
  etag: string
  chunkHashes: Uint8Array[]
}

export interface CampaignParams {
  target: Multiaddr[]
  known: KnownContent
  /** Messages per protocol. */
  messages: number
  /** No new case starts after this many seconds (slow cases then still run to their end). */
  seconds: number
  concurrency?: number
  seed?: number
}

/** The four hffs protocols: their ids, valid messages and the server's bound on a request. */
function protocolsUnderTest(
  known: KnownContent,
  rng: Rng,
): { protocol: string; seeds: Seed[]; maxMessageBytes: number }[] {
  const randomEtag = [...rng.bytes(32)].map((b) => b.toString(16).padStart(2, '0')).join('')
  const hashes = known.chunkHashes.slice(0, MAX_BATCH_SIZE - 1)
  return [
    {
      protocol: MANIFEST_PROTOCOL,
      seeds: [
        { type: 'snapshot', repoType: 'model', repoId: known.repoId, revision: known.revision },
        { type: 'manifest', etag: known.etag },
        { type: 'manifest', etag: randomEtag },
      ],
      maxMessageBytes: MANIFEST_REQUEST_BYTES,
    },
    {
      protocol: HAVE_PROTOCOL,
      seeds: [
        { type: 'have', etag: known.etag },
        { type: 'have', etag: randomEtag },
      ],
      maxMessageBytes: HAVE_REQUEST_BYTES,
    },
    {
      protocol: CHUNKS_PROTOCOL,
      seeds: [
        { type: 'want', hashes },
        { type: 'want', hashes: [rng.bytes(32), ...hashes.slice(0, 3)] },
      ],
      maxMessageBytes: maxWantBytes(MAX_BATCH_SIZE),
    },
    {
      protocol: INTENT_PROTOCOL,
      seeds: [
        { type: 'intent', etag: known.etag, state: 'wanting' },
        { type: 'intent', etag: randomEtag, state: 'fetching' },
      ],
      maxMessageBytes: 256,
    },
  ]
}

/** A libp2p node with no services at all: it only opens streams (TCP, Noise, Yamux, like every hffs node). */
export async function createHostileNode(): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
}

/** Fuzzes the four protocols of the target at once from one hostile node; a tally per protocol. */
export async function runFuzzCampaign(node: Libp2p, params: CampaignParams): Promise<FuzzTally[]> {
  const rng = new Rng(params.seed ?? 1)
  const deadline = Date.now() + params.seconds * 1000
  return await Promise.all(
    protocolsUnderTest(params.known, rng).map((p, i) =>
      fuzzProtocol({
        node,
        target: params.target,
        protocol: p.protocol,
        cases: hostileCases(p.seeds, p.maxMessageBytes, params.messages, (params.seed ?? 1) * 31 + i),
        concurrency: params.concurrency ?? 8,
        deadline,
      }),
    ),
  )
}

/** A well-behaved peer's pull of every chunk of the known blob from the target, in order. */
export async function pullKnownChunks(target: Multiaddr[], known: KnownContent): Promise<Uint8Array[]> {
  const client = await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { chunks: chunksProtocol({ chunks: { readChunk: async () => null } }) },
  })
  try {
    const out: Uint8Array[] = []
    for (let at = 0; at < known.chunkHashes.length; at += MAX_BATCH_SIZE) {
      const batch = known.chunkHashes.slice(at, at + MAX_BATCH_SIZE)
      for await (const answer of client.services.chunks.fetchChunks(target, batch, {
        signal: AbortSignal.timeout(30_000),
      })) {
        if (!('data' in answer)) throw new Error('the target answered a chunk it holds as missing')
        out.push(joinParts(answer.data))
      }
    }
    return out
  } finally {
    for (const connection of client.getConnections()) connection.abort(new Error('pull over'))
    await client.stop()
  }
}

/** The tallies as a table: one row per protocol and kind of input, how the streams ended. */
export function formatTallies(tallies: readonly FuzzTally[]): string {
  const lines = ['protocol              kind                 sent  closed  reset  gave-up  dial-failed']
  for (const t of tallies) {
    for (const [kind, row] of Object.entries(t.table).sort()) {
      const sent = Object.values(row).reduce((a, b) => a + b, 0)
      lines.push(
        `${t.protocol.padEnd(22)}${kind.padEnd(20)}${String(sent).padStart(5)}${String(row.closed ?? 0).padStart(8)}` +
          `${String(row.reset ?? 0).padStart(7)}${String(row['gave-up'] ?? 0).padStart(9)}${String(row['dial-failed'] ?? 0).padStart(13)}`,
      )
    }
    lines.push(
      `${t.protocol.padEnd(22)}${'total'.padEnd(20)}${String(t.sent).padStart(5)}   in ${t.seconds.toFixed(1)} s ` +
        `(${t.quickSeconds.toFixed(1)} s without the slow cases)`,
    )
  }
  return lines.join('\n')
}
