import assert from 'node:assert/strict'
import { ListingMemo, isCommitPinned } from '../../../src/node/gateway/listing-memo.ts'
import { rewriteLinks } from '../../../src/node/gateway/relay.ts'

const SHA = 'a'.repeat(40)

describe('gateway: listing memo and link rewriting', () => {
  it('knows which listings a commit pins', () => {
    assert.ok(isCommitPinned(`http://h/api/models/org/m/tree/${SHA}?recursive=true&expand=false`))
    assert.ok(isCommitPinned(`http://h/api/datasets/d/revision/${SHA}`))
    assert.ok(!isCommitPinned('http://h/api/models/org/m/tree/main?recursive=true'))
    assert.ok(!isCommitPinned(`http://h/org/m/resolve/${SHA}/x`))
  })

  it('answers a pinned GET once per credentials, passes everything else through', async () => {
    const calls: string[] = []
    const base: typeof fetch = async (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${String(input)}`)
      return new Response(JSON.stringify([{ n: calls.length }]), { status: 200, headers: { link: '<x>' } })
    }
    const memo = new ListingMemo()
    const url = `http://h/api/models/org/m/tree/${SHA}?recursive=true&expand=false`
    const f = memo.fetchWith(base, 'Bearer a')
    const first = await (await f(url)).json()
    const again = await f(url)
    assert.deepEqual(await again.json(), first)
    assert.equal(again.url, url)
    assert.equal(again.headers.get('link'), '<x>')
    await memo.fetchWith(base, 'Bearer b')(url)
    await f('http://h/api/models/org/m/tree/main')
    await f('http://h/api/models/org/m/tree/main')
    assert.equal(calls.length, 4)
  })

  it('drops the least recently used entries past its byte budget', () => {
    const memo = new ListingMemo(400)
    const entry = (n: number) => ({ headers: [], body: new Uint8Array(n), url: 'u' })
    memo.put(null, 'a', entry(90))
    memo.put(null, 'b', entry(90))
    memo.get(null, 'a')
    memo.put(null, 'c', entry(90))
    memo.put(null, 'd', entry(90))
    memo.put(null, 'e', entry(90))
    assert.equal(memo.get(null, 'b'), null)
    assert.notEqual(memo.get(null, 'a'), null)
  })

  it('moves pagination links from the upstream to the gateway', () => {
    const up = 'https://hub.example'
    const gw = 'http://127.0.0.1:9009'
    assert.equal(
      rewriteLinks(`<${up}/api/models/o/m/tree/main?cursor=abc>; rel="next"`, up, gw),
      `<${gw}/api/models/o/m/tree/main?cursor=abc>; rel="next"`,
    )
    assert.equal(
      rewriteLinks('<https://cdn.example/x>; rel="next"', up, gw),
      '<https://cdn.example/x>; rel="next"',
    )
    assert.equal(
      rewriteLinks('<https://mirror.example/hf/api/x>; rel="next"', 'https://mirror.example/hf', gw),
      `<${gw}/api/x>; rel="next"`,
    )
  })
})
