import assert from 'node:assert/strict'
import { matchesPeer, parsePeerAddress, peerIdOf, withoutPeerId } from '../../src/node/peer-address.ts'

const ID = '12D3KooWKMnahjusCBzWQres9E9FuSwEFeegAvRq96qa1QgKsM3s'
const OTHER = '12D3KooWSiM3sw5SR6Us6XG7iBrW6T1c5F1mpP8Hi88ZEdqZKj9K'

describe('peer addresses', () => {
  it('turns an IP, IP:PORT, [IPv6]:PORT or host name with a port into a TCP multiaddr', () => {
    assert.equal(parsePeerAddress('192.168.1.5', 4001).toString(), '/ip4/192.168.1.5/tcp/4001')
    assert.equal(parsePeerAddress('192.168.1.5:4001').toString(), '/ip4/192.168.1.5/tcp/4001')
    assert.equal(parsePeerAddress('::1', 4001).toString(), '/ip6/::1/tcp/4001')
    assert.equal(parsePeerAddress('[fe80::1]:4001').toString(), '/ip6/fe80::1/tcp/4001')
    assert.equal(parsePeerAddress('gpu-box.lan', 4001).toString(), '/dns/gpu-box.lan/tcp/4001')
  })

  it('takes a multiaddr as it is, with its peer id', () => {
    const ma = parsePeerAddress(`/ip4/10.0.0.1/tcp/4001/p2p/${ID}`)
    assert.equal(peerIdOf(ma), ID)
    assert.equal(withoutPeerId(ma).toString(), '/ip4/10.0.0.1/tcp/4001')
    assert.equal(peerIdOf(parsePeerAddress('/ip4/10.0.0.1/tcp/4001')), null)
  })

  it('refuses what it cannot dial, with a reason', () => {
    const bad: [string, number | undefined, RegExp][] = [
      ['192.168.1.5', undefined, /give the peer's libp2p port: --port PORT/],
      ['192.168.1.5', 0, /bad port 0/],
      ['192.168.1.5:1', 2, /two ports given/],
      ['/ip4/1.2.3.4/tcp/1', 5, /--port goes with an IP address, not a multiaddr/],
      ['/ip4/nope', undefined, /is not a multiaddr/],
      ['bad host!', 1, /neither an IP address, a host name nor a multiaddr/],
    ]
    for (const [input, port, message] of bad) {
      assert.throws(
        () => parsePeerAddress(input, port),
        (err: Error) => err.name === 'PeerAddressError' && message.test(err.message),
        input,
      )
    }
  })

  it('matches a manual peer by IP, IP:PORT, multiaddr or peer id', () => {
    const addr = `/ip4/10.0.0.1/tcp/4001/p2p/${ID}`
    assert.ok(matchesPeer('10.0.0.1', addr, ID))
    assert.ok(matchesPeer('10.0.0.1:4001', addr, ID))
    assert.ok(!matchesPeer('10.0.0.1:4002', addr, ID))
    assert.ok(!matchesPeer('10.0.0.2', addr, ID))
    assert.ok(matchesPeer('/ip4/10.0.0.1/tcp/4001', addr, ID))
    assert.ok(matchesPeer(addr, addr, ID))
    assert.ok(matchesPeer(`/p2p/${ID}`, addr, ID))
    assert.ok(!matchesPeer(`/ip4/10.0.0.1/tcp/4001/p2p/${OTHER}`, addr, ID))
    assert.ok(matchesPeer(ID, addr, ID))
    assert.ok(!matchesPeer(OTHER, addr, ID))
  })
})
