/**
 * Errors shared by the hffs wire protocols. Tests and callers tell them apart by `.name`.
 */

/** The remote sent something this protocol does not allow: bad CBOR, a wrong shape, an unexpected message. */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
}

/** The remote does not have what was asked for (snapshot, manifest, have-map). */
export class NotFoundError extends Error {
  override name = 'NotFoundError'
}

/** A length prefix announced more bytes than this protocol accepts for that message. */
export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError'
}

/** A message did not arrive, or could not be sent, within the per-message timeout. */
export class TimeoutError extends Error {
  override name = 'TimeoutError'
}

/** The stream ended in the middle of an exchange (before a complete answer arrived). */
export class StreamEndedError extends Error {
  override name = 'StreamEndedError'
}

/** The remote refused the request for now (e.g. too many subscriptions); retrying later may work. */
export class BusyError extends Error {
  override name = 'BusyError'
}
