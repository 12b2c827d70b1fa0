import { open, type FileHandle } from 'node:fs/promises'
import { createEtagHasher, type EtagHasher } from '../blob-etag.ts'
import type { BlobKind } from '../index-db/shard-index.ts'
import { XetChunker, type ChunkInfo } from '../xet/index.ts'
import type { Verifier, VerifiedBlob } from './blob-verifier.ts'

const READ_SIZE = 4 * 1024 * 1024

/** The blob verifier on the calling thread: for small files, where a worker round trip costs more. */
export class InlineVerifier implements Verifier {
  private readonly chunker: XetChunker
  private queue: Promise<void> = Promise.resolve()
  private state: { fh: FileHandle; hasher: EtagHasher | null; cursor: number; chunks: ChunkInfo[] } | null =
    null

  private constructor(chunker: XetChunker) {
    this.chunker = chunker
  }

  static async start(): Promise<InlineVerifier> {
    return new InlineVerifier(await XetChunker.create({ workers: 0 }))
  }

  begin(path: string, kind: BlobKind, size: number, jobs: { etag: boolean } = { etag: true }): void {
    this.queue = this.queue
      .catch(() => {})
      .then(async () => {
        await this.state?.fh.close()
        this.chunker.reset()
        const hasher = jobs.etag ? createEtagHasher(kind, size) : null
        this.state = { fh: await open(path, 'r'), hasher, cursor: 0, chunks: [] }
      })
  }

  advance(upTo: number): void {
    this.queue = this.queue.then(async () => {
      const s = this.state as NonNullable<InlineVerifier['state']>
      const buf = new Uint8Array(Math.min(READ_SIZE, upTo - s.cursor))
      while (s.cursor < upTo) {
        const { bytesRead } = await s.fh.read(buf, 0, Math.min(buf.byteLength, upTo - s.cursor), s.cursor)
        if (bytesRead === 0) throw new Error(`the file ended at ${s.cursor} bytes, before ${upTo}`)
        const data = buf.subarray(0, bytesRead)
        s.hasher?.update(data)
        for (const c of await this.chunker.push(data)) s.chunks.push(c)
        s.cursor += bytesRead
      }
    })
  }

  async finish(): Promise<VerifiedBlob> {
    await this.queue
    const s = this.state as NonNullable<InlineVerifier['state']>
    for (const c of await this.chunker.finish()) s.chunks.push(c)
    await s.fh.close()
    this.state = null
    return { etag: s.hasher?.digestHex() ?? '', chunks: s.chunks }
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {})
    await this.state?.fh.close()
    await this.chunker.close()
  }
}
