/** The tree listing's pagination cursor (an opaque offset), as the gateway and the mock Hub write it. */
export function encodeTreeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url')
}

/** The offset a cursor stands for: 0 without one, null when it is not a cursor of ours. */
export function decodeTreeCursor(cursor: string | null): number | null {
  if (cursor === null) return 0
  try {
    const { o } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o: unknown }
    if (typeof o === 'number' && Number.isSafeInteger(o) && o >= 0) return o
  } catch {
    // not ours
  }
  return null
}
