import assert from 'node:assert/strict'
import { request } from 'node:http'
import { ControlServer, HttpError } from '../../src/node/control-server.ts'
import { isAuthorized } from '../../src/node/control-token.ts'
import { createLogger } from '../../src/node/logger.ts'

const TOKEN = 'a'.repeat(64)

function call(
  port: number,
  method: string,
  path: string,
  opts: { token?: string; body?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            headers: res.headers,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

describe('control server', () => {
  let server: ControlServer
  let port = 0

  beforeEach(async () => {
    const lines: string[] = []
    server = new ControlServer({
      token: TOKEN,
      logger: createLogger('control', { sink: (l) => lines.push(l) }),
      errorStatus: { PeerNotFoundError: 404 },
    })
    server.route('GET', '/v1/echo/:name/*', (req) => ({
      body: { params: req.params, q: req.query.get('q') },
    }))
    server.route('POST', '/v1/echo', async (req) => ({ status: 201, body: { got: await req.json() } }))
    server.route('GET', '/v1/teapot', () => {
      throw new HttpError(418, 'short and stout')
    })
    server.route('GET', '/v1/missing', () => {
      const err = new Error('no such peer')
      err.name = 'PeerNotFoundError'
      throw err
    })
    server.route('GET', '/open', () => ({ body: { open: true } }), { auth: false })
    port = await server.listen(0)
  })

  afterEach(async () => {
    await server.close()
  })

  it('listens on 127.0.0.1 and wants the bearer token', async () => {
    assert.equal(server.url, `http://127.0.0.1:${port}`)
    const none = await call(port, 'GET', '/v1/echo/x/y')
    assert.equal(none.status, 401)
    assert.equal(none.headers['www-authenticate'], 'Bearer')
    assert.match(String(none.body.error), /^unauthorized/)
    assert.equal((await call(port, 'GET', '/v1/echo/x/y', { token: 'b'.repeat(64) })).status, 401)
    assert.equal((await call(port, 'GET', '/v1/echo/x/y', { token: 'short' })).status, 401)
    assert.equal((await call(port, 'GET', '/open')).status, 200)
  })

  it('routes with parameters, a rest segment and the query', async () => {
    const r = await call(port, 'GET', '/v1/echo/n%20m/a/b%2Fc?q=1', { token: TOKEN })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, { params: { name: 'n m', '*': 'a/b/c' }, q: '1' })
    const posted = await call(port, 'POST', '/v1/echo', { token: TOKEN, body: '{"x": [1]}' })
    assert.equal(posted.status, 201)
    assert.deepEqual(posted.body, { got: { x: [1] } })
    const odd = await call(port, 'GET', '/v1/echo/%E0%A4%A/x', { token: TOKEN })
    assert.deepEqual(odd.body.params, { name: '%E0%A4%A', '*': 'x' })
  })

  it('answers errors as JSON: 400, 404, 405, mapped names, HttpError', async () => {
    const badJson = await call(port, 'POST', '/v1/echo', { token: TOKEN, body: '{' })
    assert.equal(badJson.status, 400)
    assert.equal(badJson.body.error, 'body is not valid JSON')
    assert.equal((await call(port, 'GET', '/v1/nope', { token: TOKEN })).status, 404)
    const wrong = await call(port, 'DELETE', '/v1/echo', { token: TOKEN })
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.allow, 'POST')
    const mapped = await call(port, 'GET', '/v1/missing', { token: TOKEN })
    assert.deepEqual(
      [mapped.status, mapped.body.error, mapped.body.name],
      [404, 'no such peer', 'PeerNotFoundError'],
    )
    const teapot = await call(port, 'GET', '/v1/teapot', { token: TOKEN })
    assert.deepEqual([teapot.status, teapot.body.error], [418, 'short and stout'])
  })

  it('refuses a route twice and a port in use, with a one-line error', async () => {
    assert.throws(() => server.route('get', '/v1/echo/:name/*', () => ({})), /is already taken/)
    assert.throws(
      () => server.route('POST', '/v1/echo', () => ({})),
      /route POST \/v1\/echo is already taken/,
    )
    const other = new ControlServer({ token: TOKEN, logger: createLogger('x', { sink: () => {} }) })
    await assert.rejects(other.listen(port), {
      name: 'HttpListenError',
      message: `control port ${port} is in use on 127.0.0.1; choose another with --port`,
    })
  })

  it('compares tokens as Bearer headers only', () => {
    assert.ok(isAuthorized(`Bearer ${TOKEN}`, TOKEN))
    assert.ok(isAuthorized(`bearer  ${TOKEN} `, TOKEN))
    assert.ok(!isAuthorized(TOKEN, TOKEN))
    assert.ok(!isAuthorized(`Basic ${TOKEN}`, TOKEN))
    assert.ok(!isAuthorized(undefined, TOKEN))
  })
})
