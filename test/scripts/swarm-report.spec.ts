import assert from 'node:assert/strict'
import {
  CASES,
  caseResult,
  judgeGoals,
  medianRuns,
  runOrder,
  senderRatioLine,
  senderRatios,
  type CaseKey,
} from '../../scripts/bench/swarm-report.ts'

describe('swarm bench: the judged uncapped cases run several times', () => {
  it('runs uncapped-4 and uncapped-1 several times, alternating, the other cases once', () => {
    assert.deepEqual(runOrder(['capped-1', 'uncapped-4', 'uncapped-1', 'leechers-4'], 3), [
      'capped-1',
      'uncapped-4',
      'uncapped-1',
      'uncapped-4',
      'uncapped-1',
      'uncapped-4',
      'uncapped-1',
      'leechers-4',
    ])
    assert.deepEqual(runOrder(['uncapped-1', 'curl'], 2), ['uncapped-1', 'uncapped-1', 'curl'])
    // The raw streams' runs alternate with ours, in the same rounds: each round meets the same machine.
    assert.deepEqual(runOrder(['uncapped-4', 'uncapped-1', 'raw-4', 'raw-1', 'curl'], 2), [
      'uncapped-4',
      'uncapped-1',
      'raw-4',
      'raw-1',
      'uncapped-4',
      'uncapped-1',
      'raw-4',
      'raw-1',
      'curl',
    ])
    assert.deepEqual(runOrder(['capped-4', 'uncapped-4-fresh', 'uncapped-4'], 1), [
      'capped-4',
      'uncapped-4-fresh',
      'uncapped-4',
    ])
  })

  it('judges each by its median run, and keeps every run in the result', () => {
    const run = (key: CaseKey, seconds: number) =>
      caseResult(key, {
        seconds,
        bytes: 1e9,
        cpuLeechers: seconds,
        cpuSeeders: 1,
        rssLeecherPeak: 2e8,
        bytesFromSeeders: 1e9,
      })
    // uncapped-4: 200, 250, 100 MB/s; uncapped-1: 220, 210, 400 MB/s.
    const runs = [
      run('uncapped-4', 5),
      run('uncapped-1', 1e9 / 1e6 / 220),
      run('uncapped-1', 1e9 / 1e6 / 210),
    ]
    runs.push(run('uncapped-4', 4), run('uncapped-4', 10), run('uncapped-1', 2.5), run('leechers-4', 7))
    const results = medianRuns(['uncapped-4', 'uncapped-1', 'leechers-4'], runs)
    assert.deepEqual(
      results.map((r) => [r.key, Math.round(r.mbps), r.runsMBps?.map(Math.round)]),
      [
        ['uncapped-4', 200, [200, 250, 100]],
        ['uncapped-1', 220, [220, 210, 400]],
        ['leechers-4', 143, undefined],
      ],
    )
    assert.equal(results[0].spec, CASES['uncapped-4'])
    // The goal compares the medians: 200 < 220, missed (a single best run of each would say met).
    const goal = judgeGoals(results, 1e9).find((g) => g.goal.startsWith('uncapped-4: no slower'))
    assert.deepEqual([goal?.got, goal?.met], [200, false])
  })

  it('puts the median ratio of 4 senders to 1 for ours next to the raw streams, judged by neither', () => {
    const run = (key: CaseKey, mbps: number) =>
      caseResult(key, {
        seconds: 1e3 / mbps,
        bytes: 1e9,
        cpuLeechers: 1,
        cpuSeeders: 1,
        rssLeecherPeak: 2e8,
        bytesFromSeeders: 1e9,
      })
    const results = medianRuns(
      ['uncapped-4', 'uncapped-1', 'raw-4', 'raw-1'],
      [run('uncapped-4', 200), run('uncapped-1', 250), run('raw-4', 240), run('raw-1', 240)],
    )
    const ratios = senderRatios(results)
    assert.deepEqual(
      ratios.map((r) => [r.what, Math.round(r.four), Math.round(r.one), r.ratio.toFixed(2)]),
      [
        ['ours', 200, 250, '0.80'],
        ['raw', 240, 240, '1.00'],
      ],
    )
    assert.equal(
      senderRatioLine(ratios),
      '4 senders against 1 (medians): ours 0.80x (uncapped-4 / uncapped-1), raw libp2p streams 1.00x (raw-4 / raw-1)',
    )
    // The goal is still the issue's: uncapped-4 against uncapped-1, whatever the raw streams did.
    const goals = judgeGoals(results, 1e9)
    assert.deepEqual(
      goals.map((g) => [g.goal, g.met]),
      [
        ['uncapped-4: no slower than uncapped-1', false],
        ['every leecher of ours: peak RSS < 300 MB', true],
      ],
    )
    // Without both raw cases there is no line to print.
    assert.equal(senderRatioLine(senderRatios(results.filter((r) => r.key !== 'raw-1'))), null)
  })
})
