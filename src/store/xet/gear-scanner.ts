import { Buffer } from 'node:buffer'
import { GEAR_TABLE } from 'gearhash-jit'
import { GEAR_WINDOW } from './constants.ts'
import { copyBytes } from './copy-bytes.ts'
import { GEAR_INPUT, GEAR_LAYOUT, GEAR_SCAN_SLICE, gearScanModuleBytes } from './gear-scan-code.ts'
import { wasm } from './wasm-encoding.ts'

let compiled: object | undefined

/**
 * Finds the gear-hash cut candidates of a byte stream: the positions whose 64-byte window hashes to a
 * value with its top 16 bits zero (the Xet mask), fed in pieces of any size. The window's bytes before a
 * piece are kept from the pieces before it; at the very start of a stream they are zeros, which only
 * affects the first 63 positions, where no chunk can end.
 */
export class GearCandidateScanner {
  readonly #scan: (from: number, to: number) => void
  readonly #mem: Buffer
  readonly #words: Int32Array
  /**
   * The module's input area: data read into (a prefix of) it is scanned where it lies, with no copy. Its
   * bytes change with every scan of other data.
   */
  readonly input: Uint8Array

  constructor() {
    compiled ??= new wasm.Module(gearScanModuleBytes())
    const instance = new wasm.Instance(compiled)
    this.#scan = instance.exports.scan as (from: number, to: number) => void
    const memory = instance.exports.memory as { buffer: ArrayBuffer }
    this.#mem = Buffer.from(memory.buffer)
    this.#words = new Int32Array(memory.buffer)
    this.input = new Uint8Array(memory.buffer, GEAR_INPUT, GEAR_SCAN_SLICE)
    const table = new DataView(memory.buffer)
    for (let i = 0; i < 256; i++) table.setBigUint64(GEAR_LAYOUT.table + 8 * i, GEAR_TABLE[i], true)
  }

  /** Forgets the stream so far: the next piece starts a new one. */
  reset(): void {
    this.#mem.fill(0, GEAR_INPUT - GEAR_WINDOW, GEAR_INPUT)
  }

  /**
   * Calls `onCandidate(i)` for each candidate, in order, with `i` the index in `data` of the byte where
   * the window ends (a cut there would fall after that byte).
   */
  scan(data: Uint8Array, onCandidate: (i: number) => void): void {
    const mem = this.#mem
    const words = this.#words
    // Data read into `input` is there already (one slice at most).
    const inPlace =
      data.buffer === this.input.buffer && data.byteOffset === GEAR_INPUT && data.length <= GEAR_SCAN_SLICE
    for (let at = 0; at < data.length; at += GEAR_SCAN_SLICE) {
      const n = Math.min(GEAR_SCAN_SLICE, data.length - at)
      if (!inPlace) copyBytes(mem, GEAR_INPUT, data.subarray(at, at + n))
      this.#scan(GEAR_INPUT, GEAR_INPUT + n)
      for (const [from, endAt] of [
        [GEAR_LAYOUT.outA, GEAR_LAYOUT.ends],
        [GEAR_LAYOUT.outA + 4 * GEAR_SCAN_SLICE, GEAR_LAYOUT.ends + 4],
      ]) {
        const end = words[endAt >> 2]
        for (let w = from >> 2; w < end >> 2; w++) onCandidate(at + words[w] - GEAR_INPUT)
      }
      // The last 64 bytes of what was scanned become the window history of the next piece.
      mem.copyWithin(GEAR_INPUT - GEAR_WINDOW, GEAR_INPUT + n - GEAR_WINDOW, GEAR_INPUT + n)
    }
  }
}
