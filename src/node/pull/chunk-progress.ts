import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/**
 * Which chunks of a blob download are written and verified, persisted in the node's home so that a killed
 * daemon resumes without refetching them. Keyed by etag and the manifest's xet hash: a different manifest
 * for the same etag starts over.
 */
export class ChunkProgress {
  readonly path: string
  readonly xetHash: string
  readonly bits: Uint8Array
  private saving: Promise<void> = Promise.resolve()
  private lastSave = 0
  /** Its folder exists (made by the first save). */
  private folderMade = false

  private constructor(path: string, xetHash: string, bits: Uint8Array) {
    this.path = path
    this.xetHash = xetHash
    this.bits = bits
  }

  static async load(home: string, etag: string, xetHash: string, chunkCount: number): Promise<ChunkProgress> {
    const path = join(home, 'downloads', `${etag}.chunks.json`)
    const bytes = Math.ceil(chunkCount / 8)
    try {
      const saved = JSON.parse(await readFile(path, 'utf8')) as { xetHash?: string; bits?: string }
      const bits = Buffer.from(saved.bits ?? '', 'base64')
      if (saved.xetHash === xetHash && bits.byteLength === bytes)
        return new ChunkProgress(path, xetHash, bits)
    } catch {
      // none saved, or unreadable: start over
    }
    return new ChunkProgress(path, xetHash, new Uint8Array(bytes))
  }

  has(i: number): boolean {
    return (this.bits[i >> 3] & (1 << (i & 7))) !== 0
  }

  set(i: number): void {
    this.bits[i >> 3] |= 1 << (i & 7)
  }

  /** Saves at most every `everyMs` unless forced; writes are serialised and atomic. */
  save(force = false, everyMs = 100): Promise<void> {
    const now = Date.now()
    if (!force && now - this.lastSave < everyMs) return this.saving
    this.lastSave = now
    const snapshot = JSON.stringify({
      xetHash: this.xetHash,
      bits: Buffer.from(this.bits).toString('base64'),
    })
    // After the previous save, failed or not (its caller heard of a failure): one failure stops no later save.
    this.saving = this.saving
      .catch(() => {})
      .then(async () => {
        // Once: a save every 100 ms of a pull each made the folder again (~30 ms per GiB on the event loop).
        if (!this.folderMade) await mkdir(dirname(this.path), { recursive: true })
        this.folderMade = true
        const tmp = `${this.path}.${process.pid}.tmp`
        try {
          await writeFile(tmp, snapshot)
          await rename(tmp, this.path)
        } catch (err) {
          this.folderMade = false // gone meanwhile, say: the next save makes it again
          throw err
        }
      })
    return this.saving
  }

  async drop(): Promise<void> {
    await this.saving.catch(() => {})
    await rm(this.path, { force: true })
  }
}
