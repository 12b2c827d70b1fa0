import { Buffer } from 'node:buffer'
import { createRequire } from 'node:module'
import { blake3SimdSupported, KeyedBlake3Simd, SIMD_MAX_INPUT } from './blake3-simd.ts'
import { joinParts } from '../byte-parts.ts'

/** BLAKE3 keyed with a fixed key, 32-byte output. Not reentrant: one call at a time. */
export interface KeyedBlake3 {
  /** The hash of `data` followed by `more`. */
  digest(data: Uint8Array, more?: Uint8Array): Uint8Array
  /** The hash of the pieces one after another (a chunk as it arrived, in several buffers). */
  digestParts(parts: readonly Uint8Array[]): Uint8Array
}

/** Which implementation createKeyedBlake3 uses: `HFFS_BLAKE3=wasm` forces WebAssembly. */
export type Blake3Backend = 'native' | 'wasm'

/** The part of @napi-rs/blake-hash used here. */
interface NativeBlake3Hasher {
  reset(): void
  update(input: Uint8Array): unknown
  digestBuffer(): Uint8Array
}
interface NativeBlake3 {
  Blake3Hasher: { newKeyed(key: Uint8Array): NativeBlake3Hasher }
}

let native: NativeBlake3 | null | undefined

/**
 * The Rust `blake3` crate through N-API (@napi-rs/blake-hash ships it prebuilt for the usual
 * platforms, so nothing is compiled at install): AVX2/AVX-512, about 3x our wasm SIMD on Xet chunks.
 * Null where no prebuilt binary installed or `HFFS_BLAKE3=wasm`.
 */
function loadNative(): NativeBlake3 | null {
  if (native === undefined) {
    native = null
    if (process.env.HFFS_BLAKE3 !== 'wasm') {
      const require = createRequire(import.meta.url)
      try {
        // The binary's own package first: the package's loader tells glibc from musl with
        // process.report.getReport(), ~25 ms in every thread that loads it.
        native = require(`@napi-rs/blake-hash-${process.platform}-${process.arch}-gnu`) as NativeBlake3
      } catch {
        try {
          native = require('@napi-rs/blake-hash') as NativeBlake3
        } catch {
          // No binary for this platform: the WebAssembly implementations below serve.
        }
      }
    }
  }
  return native
}

/** The implementation createKeyedBlake3 picks in this process. */
export function blake3Backend(): Blake3Backend {
  return loadNative() === null ? 'wasm' : 'native'
}

/**
 * Native BLAKE3 where its binary installed; else our 4-lane wasm SIMD BLAKE3 (about twice
 * hash-wasm's speed on Xet chunks) for inputs up to a maximum-size chunk, and hash-wasm for larger
 * inputs and runtimes without wasm SIMD.
 */
export async function createKeyedBlake3(key: Uint8Array, backend = blake3Backend()): Promise<KeyedBlake3> {
  const lib = backend === 'native' ? loadNative() : null
  if (lib !== null) {
    const hasher = lib.Blake3Hasher.newKeyed(Buffer.from(key))
    return {
      digest(data: Uint8Array, more?: Uint8Array): Uint8Array {
        hasher.reset()
        hasher.update(data)
        if (more !== undefined && more.length > 0) hasher.update(more)
        const out = hasher.digestBuffer() // a Buffer with an ArrayBuffer of its own
        return new Uint8Array(out.buffer, out.byteOffset, out.length)
      },
      digestParts(parts: readonly Uint8Array[]): Uint8Array {
        hasher.reset()
        for (const part of parts) hasher.update(part)
        const out = hasher.digestBuffer()
        return new Uint8Array(out.buffer, out.byteOffset, out.length)
      },
    }
  }
  // hash-wasm only here: loading it costs ~30 ms per thread that has the native hasher and never needs it.
  const { createBLAKE3 } = await import('hash-wasm')
  const general = await createBLAKE3(256, key)
  const simd = blake3SimdSupported() ? new KeyedBlake3Simd(key) : undefined
  const digest = (data: Uint8Array, more?: Uint8Array): Uint8Array => {
    if (simd !== undefined && data.length + (more?.length ?? 0) <= SIMD_MAX_INPUT)
      return simd.hash(data, more)
    general.init()
    general.update(data)
    if (more !== undefined) general.update(more)
    return general.digest('binary')
  }
  return {
    digest,
    // More than two pieces are joined and hashed by the SIMD code: the copy costs less than hash-wasm (at
    // about half the SIMD code's pace) would.
    digestParts: (parts: readonly Uint8Array[]): Uint8Array =>
      parts.length <= 2 ? digest(parts[0] ?? new Uint8Array(0), parts[1]) : digest(joinParts(parts)),
  }
}
