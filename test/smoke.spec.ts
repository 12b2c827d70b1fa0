import assert from 'node:assert/strict'
describe('smoke', () => {
  it('runs under node 22', () => {
    assert.ok(Number(process.versions.node.split('.')[0]) >= 22)
  })
})
