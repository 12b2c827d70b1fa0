import { parseArgs } from 'node:util'
import { InvalidFaultError, parseFault } from './options.ts'
import { startMockHub, type MockHub } from './start-mock-hub.ts'

const USAGE = `usage: npm run mock-hub -- --root DIR [--port PORT] [--host ADDR] [--rate BYTES_PER_S]
       [--latency-ms N] [--fault KIND]... [--token T]... [--tree-page-size N] [--no-resolve-cache] [--no-xet-hash] [--warm]

  --root DIR          repos as DIR/{models,datasets,spaces}/{org}/{name}/{branch}/... (refs--pr--1 = refs/pr/1)
  --port PORT         default 0 (any free port; the URL is printed)
  --host ADDR         default 127.0.0.1
  --rate N[k|m|g]     bandwidth shared by all connections, bytes/s (k = 1000)
  --latency-ms N      delay before every answer
  --fault KIND        drop-after:N[:count] | status:5xx[:count] | corrupt[:count]  (repeatable)
  --token T           a valid bearer token (repeatable); private and gated repos need one
  --no-xet-hash       leave xetHash out of listings (for huggingface_hub >= 1.22 with hf_xet)
  --warm              hash every repo (Xet hashes included) before printing the URL
Knobs change at run time with POST /_mock/options {"rateBytesPerSec": ..., "faults": [...]}.`

class UsageError extends Error {
  override name = 'UsageError'
}

function parseSize(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text)
  if (!m) throw new UsageError(`${flag}: not a number: ${text}`)
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g']
  return Math.round(Number(m[1]) * unit)
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      rate: { type: 'string' },
      'latency-ms': { type: 'string' },
      fault: { type: 'string', multiple: true },
      token: { type: 'string', multiple: true },
      'tree-page-size': { type: 'string' },
      'no-resolve-cache': { type: 'boolean' },
      'no-xet-hash': { type: 'boolean' },
      warm: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  if (!values.root) throw new UsageError('--root DIR is required')
  const hub: MockHub = await startMockHub({
    root: values.root,
    port: parseSize('--port', values.port),
    host: values.host,
    rateBytesPerSec: parseSize('--rate', values.rate),
    latencyMs: parseSize('--latency-ms', values['latency-ms']),
    faults: (values.fault ?? []).map(parseFault),
    tokens: values.token,
    treePageSize: parseSize('--tree-page-size', values['tree-page-size']),
    resolveCacheRedirect: !values['no-resolve-cache'],
    xetHashes: !values['no-xet-hash'],
    log: (msg) => console.error(msg),
  })
  if (values.warm) await hub.warm()
  console.log(`mock-hub listening on ${hub.url} (root ${values.root})`)

  let stopping = false
  const stop = (): void => {
    if (stopping) process.exit(130) // a second Ctrl-C forces exit
    stopping = true
    // no process.exit(): the process ends by itself once close() left nothing running
    void hub.close()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const expected = err instanceof UsageError || err instanceof InvalidFaultError || err instanceof RangeError
  const isArgError = (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  console.error(`mock-hub: ${(err as Error).message}${expected || isArgError ? ' (--help for usage)' : ''}`)
  process.exit(2)
})
