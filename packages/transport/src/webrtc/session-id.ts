/**
 * A new random id for one WebRTC connection attempt. It travels in every
 * SignalMessage of that attempt (`session`), so concurrent or successive
 * attempts between the same two peers never mix their offers and candidates.
 */
export function newSessionId (): string {
  return globalThis.crypto.randomUUID()
}
