import { InvalidArgumentError } from '@chiral/core'

/**
 * The standard RTCPeerConnection constructor: the platform's in browsers,
 * node-datachannel's polyfill in Node (`node-datachannel/polyfill`).
 */
export type RTCPeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection

/** The injected constructor, else the platform's; throws when neither exists (plain Node). */
export function resolvePeerConnection (injected: RTCPeerConnectionConstructor | undefined): RTCPeerConnectionConstructor {
  const ctor = injected ?? (globalThis as { RTCPeerConnection?: RTCPeerConnectionConstructor }).RTCPeerConnection
  if (ctor == null) {
    throw new InvalidArgumentError('No RTCPeerConnection on this platform: pass one (in Node, node-datachannel/polyfill\'s)')
  }
  return ctor
}

/** Closes a peer connection, ignoring errors from one already closed. */
export function closePeerConnection (pc: RTCPeerConnection): void {
  try {
    pc.close()
  } catch {
    // already closed
  }
}
