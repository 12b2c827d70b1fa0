import assert from 'node:assert/strict'
import { encode } from 'cborg'
import { Message, encodeMessage } from '../../src/protocols/wire/message.ts'

function decode(bytes: Uint8Array): Message {
  return Message.decode(bytes, 'test message')
}

describe('wire messages', () => {
  it('round-trips strings, integers, null, byte strings and arrays', () => {
    const bytes = encodeMessage({
      type: 't',
      s: 'x',
      n: 2 ** 40,
      z: null,
      b: Uint8Array.of(1, 2),
      a: [1, 2, 3],
    })
    const msg = decode(bytes).expectKeys('type', 's', 'n', 'z', 'b', 'a')
    assert.equal(msg.type, 't')
    assert.equal(msg.string('s', 1), 'x')
    assert.equal(msg.uint('n'), 2 ** 40)
    assert.equal(msg.stringOrNull('z', 1), null)
    assert.deepEqual(msg.bytes('b', 2), Uint8Array.of(1, 2))
    assert.deepEqual(msg.uintArray('a', 3, 3), [1, 2, 3])
  })

  const malformed: [string, Uint8Array][] = [
    ['not CBOR', Uint8Array.of(0xff)],
    ['trailing bytes', Uint8Array.of(0xa0, 0x00)],
    ['not a map', encode([1, 2])],
    ['a duplicate key', Uint8Array.of(0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02)],
    ['a non-minimal integer', Uint8Array.of(0xa1, 0x61, 0x61, 0x18, 0x01)],
    ['an indefinite-length map', Uint8Array.of(0xbf, 0x61, 0x61, 0x01, 0xff)],
    ['a tag', Uint8Array.of(0xa1, 0x61, 0x61, 0xc1, 0x01)],
    ['undefined', Uint8Array.of(0xa1, 0x61, 0x61, 0xf7)],
    ['a non-string key', Uint8Array.of(0xa1, 0x01, 0x01)],
  ]
  for (const [what, bytes] of malformed) {
    it(`rejects ${what} as a ProtocolError`, () => {
      assert.throws(() => decode(bytes), { name: 'ProtocolError' })
    })
  }

  it('rejects fields of the wrong shape, naming the field', () => {
    const msg = decode(encodeMessage({ type: 't', n: -1, f: 1.5, s: 'long', b: 'text', a: [1, 'x'] }))
    assert.throws(() => msg.uint('n'), /field "n"/)
    assert.throws(() => msg.uint('f'), /field "f"/)
    assert.throws(() => msg.uint('missing'), /field "missing"/)
    assert.throws(() => msg.string('s', 3), /longer than 3/)
    assert.throws(() => msg.bytes('b', 10), /byte string/)
    assert.throws(() => msg.uintArray('a', 5, 10), { name: 'ProtocolError' })
    assert.throws(() => msg.array('a', 1), /more than 1 items/)
  })

  it('requires exactly the expected keys', () => {
    const msg = decode(encodeMessage({ type: 't', a: 1 }))
    assert.throws(() => msg.expectKeys('type'), /"a": unexpected field/)
    assert.throws(() => msg.expectKeys('type', 'a', 'b'), /"b": missing/)
    assert.doesNotThrow(() => msg.expectKeys('type', 'a'))
  })
})
