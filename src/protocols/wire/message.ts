import { decode, encode } from 'cborg'
import { ProtocolError } from './errors.ts'

/** CBOR as a peer may send it: no tags, no undefined, no indefinite lengths, no duplicate keys, minimal encodings. */
const DECODE_OPTIONS = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowUndefined: false,
  allowIndefinite: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  useMaps: false,
  tags: [],
}

/** Encodes a control message: a CBOR map with string keys; Uint8Array values stay CBOR byte strings. */
export function encodeMessage(fields: Record<string, unknown>): Uint8Array {
  return encode(fields)
}

/**
 * A decoded control message whose fields are read through strict typed getters. Any deviation from the
 * expected shape throws ProtocolError naming the message and the field.
 */
export class Message {
  readonly what: string
  private readonly fields: Record<string, unknown>

  private constructor(what: string, fields: Record<string, unknown>) {
    this.what = what
    this.fields = fields
  }

  /** Decodes CBOR bytes that must hold one map with string keys. */
  static decode(bytes: Uint8Array, what: string): Message {
    let value: unknown
    try {
      value = decode(bytes, DECODE_OPTIONS)
    } catch (err) {
      throw new ProtocolError(`${what}: not valid CBOR (${(err as Error).message})`)
    }
    return Message.of(value, what)
  }

  /** Wraps an already decoded value (an item of an array field) that must be a map. */
  static of(value: unknown, what: string): Message {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      throw new ProtocolError(`${what}: expected a map`)
    }
    return new Message(what, value as Record<string, unknown>)
  }

  /** The `type` field, which every top-level message has. */
  get type(): string {
    return this.string('type', 64)
  }

  /** Requires exactly these keys: a field too many is as malformed as a field missing. */
  expectKeys(...keys: string[]): this {
    const present = Object.keys(this.fields)
    const extra = present.find((k) => !keys.includes(k))
    if (extra !== undefined) throw this.fail(extra.slice(0, 40), 'unexpected field')
    const missing = keys.find((k) => !Object.hasOwn(this.fields, k))
    if (missing !== undefined) throw this.fail(missing, 'missing')
    return this
  }

  string(key: string, maxLength: number): string {
    const value = this.fields[key]
    if (typeof value !== 'string') throw this.fail(key, 'expected a string')
    if (value.length > maxLength) throw this.fail(key, `longer than ${maxLength} characters`)
    return value
  }

  stringOrNull(key: string, maxLength: number): string | null {
    return this.fields[key] === null ? null : this.string(key, maxLength)
  }

  /** A non-negative safe integer no larger than `max`. */
  uint(key: string, max = Number.MAX_SAFE_INTEGER): number {
    return checkUint(this.fields[key], max, () => this.fail(key, `expected an integer in 0..${max}`))
  }

  bytes(key: string, maxLength: number): Uint8Array {
    const value = this.fields[key]
    if (!(value instanceof Uint8Array)) throw this.fail(key, 'expected a byte string')
    if (value.byteLength > maxLength) throw this.fail(key, `longer than ${maxLength} bytes`)
    return value
  }

  array(key: string, maxItems: number): unknown[] {
    const value = this.fields[key]
    if (!Array.isArray(value)) throw this.fail(key, 'expected an array')
    if (value.length > maxItems) throw this.fail(key, `more than ${maxItems} items`)
    return value
  }

  /** An array of non-negative integers, each no larger than `max`. */
  uintArray(key: string, maxItems: number, max: number): number[] {
    return this.array(key, maxItems).map((v) =>
      checkUint(v, max, () => this.fail(key, `expected integers in 0..${max}`)),
    )
  }

  private fail(key: string, why: string): ProtocolError {
    return new ProtocolError(`${this.what}: field ${JSON.stringify(key)}: ${why}`)
  }
}

function checkUint(value: unknown, max: number, fail: () => Error): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) throw fail()
  return value
}
