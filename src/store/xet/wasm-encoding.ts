/** Byte encodings shared by the small WebAssembly modules this folder generates, and the API that runs them. */

/** The few WebAssembly APIs used here (the project's TypeScript libs do not declare them). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: Record<string, unknown> }
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

export function uleb(n: number): number[] {
  const out: number[] = []
  do {
    const byte = n & 0x7f
    n >>>= 7
    out.push(n === 0 ? byte : byte | 0x80)
  } while (n !== 0)
  return out
}

/** Signed LEB128 of an i32 or i64 constant. */
export function sleb(value: number | bigint): number[] {
  let n = BigInt(value)
  const out: number[] = []
  for (;;) {
    const byte = Number(n & 0x7fn)
    n >>= 7n
    if ((n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)) return [...out, byte]
    out.push(byte | 0x80)
  }
}

export const get = (i: number): number[] => [0x20, ...uleb(i)]
export const set = (i: number): number[] => [0x21, ...uleb(i)]
export const i32Const = (n: number): number[] => [0x41, ...sleb(n | 0)]
export const i64Const = (n: bigint): number[] => [0x42, ...sleb(BigInt.asIntN(64, n))]
export const i32Load = (offset: number): number[] => [0x28, 0x02, ...uleb(offset)]

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content]
}

const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))]

export interface WasmFunction {
  name: string
  /** Value types of the parameters (0x7f i32, 0x7e i64). */
  params: number[]
  /** Local declarations after the parameters: [count, value type] pairs. */
  locals: [number, number][]
  body: number[]
}

/** A module of one exported function without results, and its exported `memory` of `pages` 64 KiB pages. */
export function moduleBytes(fn: WasmFunction, pages: number): Uint8Array {
  const locals = [...uleb(fn.locals.length), ...fn.locals.flatMap(([count, type]) => [...uleb(count), type])]
  const body = [...locals, ...fn.body, 0x0b]
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, ...uleb(fn.params.length), ...fn.params, 0x00]),
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, ...uleb(pages)]),
    ...section(7, [0x02, ...name(fn.name), 0x00, 0x00, ...name('memory'), 0x02, 0x00]),
    ...section(10, [0x01, ...uleb(body.length), ...body]),
  ])
}
