import type { Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { HostileCase } from './hostile-messages.ts'
import { lengthPrefixed } from './hostile-messages.ts'

/** How a hostile stream ended, seen from the hostile side. */
export type FuzzOutcome = 'closed' | 'reset' | 'gave-up' | 'dial-failed'

export interface FuzzTally {
  protocol: string
  /** Cases run (streams opened or tried). */
  sent: number
  /** Cases by kind of input. */
  kinds: Record<string, number>
  /** Cases by how the stream ended. */
  outcomes: Record<string, number>
  /** Cases by kind and outcome, `kind → outcome → count`. */
  table: Record<string, Record<string, number>>
  /** Cases that got at least one byte back from the server. */
  answered: number
  /** The first few reasons a dial failed, to tell a shut-out from a broken set-up. */
  dialErrors: string[]
  seconds: number
  /** Seconds until the last quick case ended (slow ones excluded). */
  quickSeconds: number
}

export interface FuzzProtocolParams {
  /** The hostile node. */
  node: Libp2p
  target: Multiaddr[]
  protocol: string
  cases: readonly HostileCase[]
  /** Streams open at once (slow cases run beside them, outside this count). */
  concurrency: number
  /** No new case starts after this time (ms since the epoch). */
  deadline: number
  /** The longest a case waits for the server to end a stream it started. */
  caseTimeoutMs?: number
}

/** Runs hostile cases against one protocol of the target; every stream ends within `caseTimeoutMs`. */
export async function fuzzProtocol(params: FuzzProtocolParams): Promise<FuzzTally> {
  const started = performance.now()
  const tally: FuzzTally = {
    protocol: params.protocol,
    sent: 0,
    kinds: {},
    outcomes: {},
    table: {},
    answered: 0,
    dialErrors: [],
    seconds: 0,
    quickSeconds: 0,
  }
  const record = (c: HostileCase, outcome: FuzzOutcome, answered: boolean): void => {
    tally.outcomes[outcome] = (tally.outcomes[outcome] ?? 0) + 1
    const row = (tally.table[c.kind] ??= {})
    row[outcome] = (row[outcome] ?? 0) + 1
    if (answered) tally.answered++
  }
  const slow: Promise<void>[] = []
  const queue = [...params.cases]
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c !== undefined && Date.now() < params.deadline; c = queue.shift()) {
      tally.sent++
      tally.kinds[c.kind] = (tally.kinds[c.kind] ?? 0) + 1
      const hostileCase = c
      const run = runCase(params, hostileCase).then(({ outcome, answered, dialError }) => {
        record(hostileCase, outcome, answered)
        if (dialError !== undefined && tally.dialErrors.length < 5) tally.dialErrors.push(dialError)
      })
      // Slow cases take seconds by design: they run beside the others instead of holding a worker.
      if (c.action.do === 'dribble' || c.action.do === 'stall') slow.push(run)
      else await run
    }
  }
  await Promise.all(Array.from({ length: params.concurrency }, worker))
  tally.quickSeconds = (performance.now() - started) / 1000
  await Promise.all(slow)
  tally.seconds = (performance.now() - started) / 1000
  return tally
}

async function runCase(
  params: FuzzProtocolParams,
  c: HostileCase,
): Promise<{ outcome: FuzzOutcome; answered: boolean; dialError?: string }> {
  let stream: Stream
  try {
    stream = await params.node.dialProtocol(params.target, params.protocol, {
      signal: AbortSignal.timeout(10_000),
    })
  } catch (err) {
    const e = err as Error
    return { outcome: 'dial-failed', answered: false, dialError: `${e.name}: ${e.message}` }
  }
  let answered = false
  stream.addEventListener('message', () => {
    answered = true
  })
  const ended = new Promise<FuzzOutcome>((resolve) => {
    if (stream.status !== 'open') resolve(stream.status === 'closed' ? 'closed' : 'reset')
    stream.addEventListener('close', (evt) => resolve(evt.error === undefined ? 'closed' : 'reset'))
  })
  const timeoutMs = params.caseTimeoutMs ?? 20_000
  const action = c.action
  try {
    if (action.do === 'frames') {
      stream.send(concatAll(action.frames.map(lengthPrefixed)))
      await stream.close({ signal: AbortSignal.timeout(5_000) })
    } else if (action.do === 'raw') {
      stream.send(action.bytes)
      if (action.then === 'reset') stream.abort(new Error('hostile reset'))
      else await stream.close({ signal: AbortSignal.timeout(5_000) })
    } else if (action.do === 'dribble') {
      const until = Date.now() + action.maxMs
      for (let i = 0; stream.status === 'open' && Date.now() < until; i++) {
        stream.send(action.bytes.subarray(i % action.bytes.byteLength, (i % action.bytes.byteLength) + 1))
        await Promise.race([ended, new Promise((r) => setTimeout(r, action.everyMs))])
      }
    } else {
      stream.pause()
      stream.send(lengthPrefixed(action.frame))
      await Promise.race([ended, new Promise((r) => setTimeout(r, action.holdMs))])
      // Then behave: read what is left and close, which ends the exchange (or a have subscription).
      stream.resume()
      if (stream.status === 'open') await stream.close({ signal: AbortSignal.timeout(5_000) })
    }
  } catch {
    // the server reset the stream while we wrote: what ended it is recorded below
  }
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    ended,
    new Promise<FuzzOutcome>((resolve) => {
      timer = setTimeout(() => resolve('gave-up'), timeoutMs)
    }),
  ])
  clearTimeout(timer)
  if (stream.status === 'open' || stream.status === 'closing') stream.abort(new Error('fuzz case over'))
  return { outcome, answered }
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}
