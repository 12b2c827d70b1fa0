import assert from 'node:assert/strict'
import type { EventLoopUtilization } from 'node:perf_hooks'
import {
  LoopLoad,
  SAMPLE_MS,
  SATURATED_FROM,
  SATURATED_FROM_BPS,
  SATURATED_UNTIL,
} from '../../../src/node/pull/loop-load.ts'

/** A LoopLoad on a made-up clock and event loop: each step is one sample of `busy` utilization. */
function fakeLoad(): { load: LoopLoad; step: (busy: number, bytesPerSecond: number) => boolean } {
  let now = 0
  let active = 0
  const utilization = (
    current?: EventLoopUtilization,
    previous?: EventLoopUtilization,
  ): EventLoopUtilization => {
    if (current === undefined) return { idle: now - active, active, utilization: 0 }
    const base = previous ?? { idle: 0, active: 0, utilization: 0 }
    const a = current.active - base.active
    const i = current.idle - base.idle
    return { idle: i, active: a, utilization: a / (a + i) }
  }
  const load = new LoopLoad(utilization, () => now)
  return {
    load,
    step(busy, bytesPerSecond) {
      now += SAMPLE_MS
      active += busy * SAMPLE_MS
      load.received((bytesPerSecond * SAMPLE_MS) / 1000)
      return load.isSaturated()
    },
  }
}

describe('LoopLoad', () => {
  const fast = SATURATED_FROM_BPS * 2

  it('is saturated after two samples in a row of a busy loop taking chunks in fast, and stays so through a dip', () => {
    const { step } = fakeLoad()
    assert.equal(step(0.99, fast), false)
    assert.equal(step(0.99, fast), true)
    // Between the two thresholds: no change.
    assert.equal(step((SATURATED_FROM + SATURATED_UNTIL) / 2, fast), true)
    assert.equal(step(SATURATED_UNTIL - 0.01, fast), false)
  })

  it('is not saturated by a loop busy with something else than chunks', () => {
    const { step } = fakeLoad()
    for (let i = 0; i < 8; i++) assert.equal(step(1, SATURATED_FROM_BPS / 3), false, `sample ${i}`)
  })

  it('needs the two busy samples in a row: one quiet sample between starts the count again', () => {
    const { step } = fakeLoad()
    assert.equal(step(0.95, fast), false)
    assert.equal(step(0.5, fast), false)
    assert.equal(step(0.95, fast), false)
    assert.equal(step(0.95, fast), true)
  })

  it('stops being saturated when chunks come in at under half the pace, however busy the loop', () => {
    const { step } = fakeLoad()
    step(0.95, fast)
    assert.equal(step(0.95, fast), true)
    assert.equal(step(0.95, SATURATED_FROM_BPS * 0.6), true)
    assert.equal(step(0.95, SATURATED_FROM_BPS * 0.4), false)
  })

  it('answers from the last sample when asked again within SAMPLE_MS', () => {
    const { load, step } = fakeLoad()
    step(0.95, fast)
    assert.equal(step(0.95, fast), true)
    for (let i = 0; i < 5; i++) assert.equal(load.isSaturated(), true)
  })
})
