import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { ChildOutput } from '../../scripts/lab/child-output.ts'
import { createLab, LAB_PROBES, LAB_SCRIPT, removeStaleLabs, type Lab } from '../../scripts/lab/lab.ts'
import { runCommand } from '../../scripts/lab/run-command.ts'
import { describeLab } from './lab-gate.ts'

const HUB_RATE_MBIT = 50
const BULK_BYTES = 20 * 1024 * 1024
const MDNS_GROUP = '224.0.0.251'
const MDNS_PORT = '5353'
const node = process.execPath

/** Prefixed names left in the machine's own namespace list and link list. */
async function leftovers(prefix: string): Promise<string[]> {
  const netns = await runCommand('ip', ['netns', 'list'])
  const links = await runCommand('ip', ['-o', 'link', 'show'])
  return [...netns.stdout.split('\n'), ...links.stdout.split('\n')].filter((line) => line.includes(prefix))
}

describeLab('lab network (scripts/lab)', function () {
  this.timeout(60_000)
  let lab: Lab

  before(async function () {
    await removeStaleLabs()
    lab = await createLab({ hubRate: `${HUB_RATE_MBIT}mbit` })
  })

  after(async function () {
    await lab?.destroy()
  })

  const ipOf = (host: string): string => lab.hosts[host].ip
  const siteHosts = (site: 'a' | 'b'): string[] =>
    Object.values(lab.hosts)
      .filter((h) => h.site === site && h.role === 'peer')
      .map((h) => h.name)

  it('describes every host with its own namespace and addresses', function () {
    assert.deepEqual(siteHosts('a'), ['a1', 'a2', 'a3', 'a4'])
    assert.deepEqual(siteHosts('b'), ['b1', 'b2', 'b3'])
    assert.deepEqual(
      lab.hosts.relay.ifaces.map((i) => [i.net, i.ip]),
      [
        ['a', '10.77.1.254'],
        ['b', '10.77.2.254'],
      ],
    )
    assert.equal(lab.hosts.hub.ip, '10.77.9.2')
    for (const host of Object.values(lab.hosts)) assert.equal(host.ns, `${lab.id}-${host.name}`)
    assert.ok(existsSync(lab.state.stateFile))
  })

  it('has loopback up in every namespace', async function () {
    const namespaces = [
      ...Object.values(lab.hosts).map((h) => h.ns),
      lab.state.switches.a.ns,
      lab.state.switches.b.ns,
    ]
    for (const ns of namespaces) {
      const r = await runCommand('ip', ['-n', ns, '-o', 'link', 'show', 'lo'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /[<,]UP[,>]/, `lo down in ${ns}`)
    }
  })

  it('joins the hosts of each site', async function () {
    for (const site of ['a', 'b'] as const) {
      const hosts = siteHosts(site)
      const pairs = hosts.flatMap((from) => hosts.filter((to) => to !== from).map((to) => [from, to]))
      const results = await Promise.all(pairs.map(([from, to]) => lab.reaches(from, ipOf(to))))
      pairs.forEach(([from, to], i) => assert.ok(results[i], `${from} should reach ${to}`))
    }
  })

  it('lets site A, and only site A, reach the hub', async function () {
    assert.equal(await lab.reaches('a1', ipOf('hub')), true, 'a1 -> hub')
    assert.equal(await lab.reaches('a4', ipOf('hub')), true, 'a4 -> hub')
    assert.equal(await lab.reaches('b1', ipOf('hub')), false, 'b1 -> hub')
    assert.equal(await lab.reaches('hub', ipOf('b1')), false, 'hub -> b1')
  })

  it('keeps the sites apart: the relay does not forward', async function () {
    const [bToA, aToB] = await Promise.all([lab.reaches('b1', ipOf('a1')), lab.reaches('a1', ipOf('b1'))])
    assert.equal(bToA, false, 'b1 -> a1')
    assert.equal(aToB, false, 'a1 -> b1')
    const forwarding = await lab.exec('relay', 'cat', ['/proc/sys/net/ipv4/ip_forward'])
    assert.equal(forwarding.stdout.trim(), '0')
  })

  it('lets the relay reach both sites', async function () {
    assert.equal(await lab.reaches('relay', ipOf('a1')), true, 'relay -> a1')
    assert.equal(await lab.reaches('relay', ipOf('b3')), true, 'relay -> b3')
  })

  it('gives the same answers with the tcp probe as with ping', async function () {
    const tcp = { method: 'tcp' } as const
    const [a1ToA3, a1ToHub, b1ToHub, b1ToA1] = await Promise.all([
      lab.reaches('a1', ipOf('a3'), tcp),
      lab.reaches('a1', ipOf('hub'), tcp),
      lab.reaches('b1', ipOf('hub'), tcp),
      lab.reaches('b1', ipOf('a1'), tcp),
    ])
    assert.deepEqual([a1ToA3, a1ToHub, b1ToHub, b1ToA1], [true, true, false, false])
  })

  it('carries multicast on a site, and not across sites', async function () {
    const listen = (host: string): ChildOutput =>
      new ChildOutput(
        lab.spawn(host, node, [LAB_PROBES.udpMulticast, 'listen', '--iface', ipOf(host), '--ms', '2500']),
      )
    const send = (host: string, data: string): Promise<unknown> =>
      lab.exec(host, node, [
        LAB_PROBES.udpMulticast,
        'send',
        '--iface',
        ipOf(host),
        '--data',
        data,
        '--group',
        MDNS_GROUP,
        '--port',
        MDNS_PORT,
      ])
    const a2 = listen('a2')
    const b1 = listen('b1')
    await Promise.all([a2.waitForLine(/^ready$/, 5_000), b1.waitForLine(/^ready$/, 5_000)])
    await Promise.all([send('a1', 'from-site-a'), send('b2', 'from-site-b')])
    await Promise.all([a2.waitForExit(10_000), b1.waitForExit(10_000)])

    const received = (out: ChildOutput): string[] => [
      ...new Set(
        out.lines
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { from: string; data: string })
          .map((m) => `${m.from} ${m.data}`),
      ),
    ]
    assert.deepEqual(received(a2), [`${ipOf('a1')} from-site-a`])
    // b1 hears its own site (so it was listening) but nothing from site A.
    assert.deepEqual(received(b1), [`${ipOf('b2')} from-site-b`])
  })

  it('limits the hub link to its tbf rate', async function () {
    const server = new ChildOutput(
      lab.spawn('hub', node, [
        LAB_PROBES.tcpBulk,
        'serve',
        '--host',
        ipOf('hub'),
        '--bytes',
        String(BULK_BYTES),
      ]),
    )
    const port = (await server.waitForLine(/^ready \d+$/, 5_000)).split(' ')[1]
    const fetched = await lab.exec(
      'a1',
      node,
      [LAB_PROBES.tcpBulk, 'fetch', '--host', ipOf('hub'), '--port', port],
      {
        timeoutMs: 30_000,
      },
    )
    assert.equal(fetched.code, 0, fetched.stderr)
    const { bytes, ms } = JSON.parse(fetched.stdout) as { bytes: number; ms: number }
    assert.equal(bytes, BULK_BYTES)
    const expectedMs = ((BULK_BYTES * 8) / (HUB_RATE_MBIT * 1e6)) * 1000
    assert.ok(
      ms >= expectedMs * 0.8,
      `${ms} ms is faster than ${HUB_RATE_MBIT} Mbit/s allows (${expectedMs} ms)`,
    )
    assert.ok(ms <= expectedMs * 3, `${ms} ms: the link is far slower than ${HUB_RATE_MBIT} Mbit/s`)
    this.test!.title += ` (${Math.round((bytes * 8) / ms / 1000)} Mbit/s)`
  })

  it('lab.sh: up again is harmless, exec runs in a host, status lists every host', async function () {
    const again = await runCommand('bash', [
      LAB_SCRIPT,
      'up',
      '--id',
      lab.id,
      '--state',
      lab.state.stateFile,
      '--rate',
      lab.state.hubRate,
      '--owner-pid',
      String(process.pid),
    ])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(await lab.reaches('a2', ipOf('hub')), true, 'a2 -> hub after a second up')
    const addr = await runCommand('bash', [
      LAB_SCRIPT,
      'exec',
      '--id',
      lab.id,
      'b2',
      'ip',
      '-o',
      '-4',
      'addr',
      'show',
    ])
    assert.match(addr.stdout, /eth0\s+inet 10\.77\.2\.2\/24/)
    const status = await runCommand('bash', [LAB_SCRIPT, 'status', '--state', lab.state.stateFile])
    assert.equal(status.code, 0, status.stderr)
    for (const host of Object.keys(lab.hosts))
      assert.match(status.stdout, new RegExp(`^  ${host} +${lab.id}-${host} `, 'm'))
  })

  it('leaves no namespace or interface behind once destroyed', async function () {
    const prefix = lab.state.prefix
    assert.notDeepEqual(await leftovers(prefix), [], 'the lab should exist before destroy')
    await lab.destroy()
    await lab.destroy()
    assert.deepEqual(await leftovers(prefix), [])
    assert.equal(existsSync(lab.state.stateFile), false)
  })
})
