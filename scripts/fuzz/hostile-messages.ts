import { encode } from 'cborg'

/**
 * Hostile inputs for the hffs wire protocols: random frames, and valid messages mutated (bytes flipped,
 * truncated, fields of the wrong type, huge and malformed length prefixes), plus stream behaviours (closed
 * mid-message, reset, dribbled forever, answers never read). Deterministic for a seed.
 */

/** What a hostile case does with a fresh stream of the protocol. */
export type HostileAction =
  /** Frames to send (each length-prefixed), then close our writing end. */
  | { do: 'frames'; frames: Uint8Array[] }
  /** Raw bytes, no framing added (bad or lying length prefixes), then close or reset. */
  | { do: 'raw'; bytes: Uint8Array; then: 'close' | 'reset' }
  /** Raw bytes one at a time every `everyMs`, never closing, until the server gives up or `maxMs` passes. */
  | { do: 'dribble'; bytes: Uint8Array; everyMs: number; maxMs: number }
  /** One valid frame, then never read the answers and never close, for `holdMs`. */
  | { do: 'stall'; frame: Uint8Array; holdMs: number }

export interface HostileCase {
  /** The kind of input, for the tally (e.g. `flip`, `wrong-type`, `huge-length`). */
  kind: string
  action: HostileAction
}

/** Valid messages of a protocol, as plain objects (encoded to CBOR here); mutations start from them. */
export type Seed = Record<string, unknown>

/** xorshift32: the same cases for the same seed. */
export class Rng {
  private x: number
  constructor(seed: number) {
    this.x = seed | 0 || 1
  }
  next(): number {
    this.x ^= this.x << 13
    this.x ^= this.x >>> 17
    this.x ^= this.x << 5
    return (this.x >>> 0) / 0x1_0000_0000
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

/** Unsigned varint, as libp2p's length prefixes. */
export function varint(n: number): Uint8Array {
  const out: number[] = []
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out.push(v)
      break
    }
    out.push((v % 128) | 0x80)
  }
  return Uint8Array.from(out)
}

function frame(payload: Uint8Array): Uint8Array {
  const prefix = varint(payload.byteLength)
  const out = new Uint8Array(prefix.byteLength + payload.byteLength)
  out.set(prefix)
  out.set(payload, prefix.byteLength)
  return out
}

/** Values of every CBOR type, to put where a field of another type belongs. */
function wrongValue(rng: Rng): unknown {
  const values: (() => unknown)[] = [
    () => null,
    () => true,
    () => -1,
    () => 2 ** 53 + 2, // a float: past safe integers
    () => 1.5,
    () => '',
    () => 'x'.repeat(rng.int(5000)),
    () => rng.bytes(rng.int(100)),
    () => [],
    () => Array.from({ length: rng.int(200) }, () => rng.int(1000)),
    () => ({ type: 'want' }),
    () => ({ nested: { deeper: [[[[[]]]]] } }),
    () => '../../etc/passwd',
    () => 'a\u0000b',
  ]
  return rng.pick(values)()
}

/** Hand-made CBOR that a strict decoder must refuse: tags, indefinite lengths, duplicate keys, undefined. */
const ILLEGAL_CBOR: readonly Uint8Array[] = [
  Uint8Array.from([0xa1, 0x64, 0x74, 0x79, 0x70, 0x65, 0xf7]), // {type: undefined}
  Uint8Array.from([0xbf, 0x64, 0x74, 0x79, 0x70, 0x65, 0x61, 0x61, 0xff]), // indefinite map
  Uint8Array.from([0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02]), // duplicate key
  Uint8Array.from([0xc2, 0x41, 0x01]), // tag 2 (bignum)
  Uint8Array.from([0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), // NaN
  Uint8Array.from([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // 2^64-1
  Uint8Array.from([0x5b, 0, 0, 0, 1, 0, 0, 0, 0]), // a byte string announcing 4 GiB
  Uint8Array.from([0x9b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), // an array announcing 4 G items
  new Uint8Array(2000).fill(0x81), // 2000 nested arrays, never closed
  Uint8Array.from([0xa1, 0x18]), // truncated head
]

/** `count` hostile cases for a protocol whose valid messages are `seeds` and whose bound is `maxMessageBytes`. */
export function hostileCases(
  seeds: readonly Seed[],
  maxMessageBytes: number,
  count: number,
  seed = 1,
): HostileCase[] {
  const rng = new Rng(seed)
  const valid = (): Uint8Array => encode(rng.pick(seeds))
  const makers: { kind: string; weight: number; make: () => HostileAction }[] = [
    { kind: 'valid', weight: 4, make: () => ({ do: 'frames', frames: [valid()] }) },
    { kind: 'random', weight: 10, make: () => ({ do: 'frames', frames: [rng.bytes(rng.int(600))] }) },
    {
      kind: 'flip',
      weight: 20,
      make: () => {
        const bytes = valid().slice()
        for (let n = 1 + rng.int(8); n > 0; n--) bytes[rng.int(bytes.byteLength)] ^= 1 << rng.int(8)
        return { do: 'frames', frames: [bytes] }
      },
    },
    {
      kind: 'truncate',
      weight: 10,
      make: () => {
        const bytes = valid()
        return { do: 'frames', frames: [bytes.subarray(0, rng.int(bytes.byteLength))] }
      },
    },
    {
      kind: 'wrong-type',
      weight: 15,
      make: () => {
        const msg: Record<string, unknown> = { ...rng.pick(seeds) }
        const keys = Object.keys(msg)
        msg[rng.pick(keys)] = wrongValue(rng)
        if (rng.int(4) === 0) msg[`extra${rng.int(9)}`] = wrongValue(rng)
        if (rng.int(6) === 0) delete msg[rng.pick(keys)]
        return { do: 'frames', frames: [encode(msg)] }
      },
    },
    { kind: 'not-a-map', weight: 4, make: () => ({ do: 'frames', frames: [encode(wrongValue(rng))] }) },
    { kind: 'illegal-cbor', weight: 5, make: () => ({ do: 'frames', frames: [rng.pick(ILLEGAL_CBOR)] }) },
    { kind: 'empty-frame', weight: 2, make: () => ({ do: 'frames', frames: [new Uint8Array(0)] }) },
    {
      kind: 'trailing-frames',
      weight: 5,
      make: () => ({ do: 'frames', frames: [valid(), rng.bytes(rng.int(300)), valid()] }),
    },
    {
      kind: 'oversized',
      weight: 4,
      make: () => ({ do: 'frames', frames: [rng.bytes(maxMessageBytes + 1 + rng.int(1000))] }),
    },
    {
      kind: 'huge-length',
      weight: 5,
      make: () => {
        const length = rng.pick([maxMessageBytes + 1, 2 ** 31, 2 ** 32 - 1, 2 ** 50])
        return { do: 'raw', bytes: concat(varint(length), rng.bytes(rng.int(64))), then: 'close' }
      },
    },
    {
      kind: 'bad-length-prefix',
      weight: 4,
      make: () => ({ do: 'raw', bytes: new Uint8Array(6 + rng.int(10)).fill(0xff), then: 'close' }),
    },
    {
      kind: 'closed-mid-message',
      weight: 5,
      make: () => {
        const bytes = frame(valid())
        return { do: 'raw', bytes: bytes.subarray(0, 1 + rng.int(bytes.byteLength - 1)), then: 'close' }
      },
    },
    {
      kind: 'reset-mid-message',
      weight: 4,
      make: () => {
        const bytes = frame(valid())
        return { do: 'raw', bytes: bytes.subarray(0, 1 + rng.int(bytes.byteLength - 1)), then: 'reset' }
      },
    },
    {
      kind: 'slow-stream',
      weight: 1,
      make: () => ({ do: 'dribble', bytes: frame(valid()), everyMs: 500, maxMs: 15_000 }),
    },
    { kind: 'never-read', weight: 1, make: () => ({ do: 'stall', frame: valid(), holdMs: 3_000 }) },
  ]
  const total = makers.reduce((n, m) => n + m.weight, 0)
  const cases: HostileCase[] = []
  for (let i = 0; i < count; i++) {
    let r = rng.int(total)
    const maker = makers.find((m) => (r -= m.weight) < 0) ?? makers[0]
    cases.push({ kind: maker.kind, action: maker.make() })
  }
  return cases
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}

export { frame as lengthPrefixed }
