import assert from 'node:assert/strict'
import { HubFetchCoordinator } from '../../../src/node/pull/hub-fetch-coordinator.ts'

describe('intents heard from peers stay bounded (issue 8)', () => {
  it('a peer telling about 20,000 different blobs leaves at most 4,096 remembered, the latest kept', () => {
    const board = new HubFetchCoordinator(() => false)
    const etag = (i: number): string => i.toString(16).padStart(64, '0')
    for (let i = 0; i < 20_000; i++) board.note(etag(i), 'hostile', 'fetching')
    assert.ok(board.heardBlobs <= 4096, `${board.heardBlobs} blobs remembered`)
    assert.ok(board.heardBlobs >= 3000, 'recent intents are not all dropped')
  })
})
