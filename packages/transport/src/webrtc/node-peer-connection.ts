/**
 * node-datachannel's standard RTCPeerConnection, for Node (export it from the
 * Node entry only: browsers use their own). Pass it as the WebRTC path's
 * `RTCPeerConnection` component. The first one created applies Chiral's SCTP
 * settings (see `sctp-settings.ts`) unless the app configured its own.
 */
import { cleanup } from 'node-datachannel'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { ensureSctpConfigured } from './sctp-settings.js'
import type { RTCPeerConnectionConstructor } from './peer-connection.js'

class TunedRTCPeerConnection extends RTCPeerConnection {
  constructor (configuration?: RTCConfiguration) {
    ensureSctpConfigured()
    super(configuration as ConstructorParameters<typeof RTCPeerConnection>[0])
  }
}

// The polyfill implements the standard interface; only its private event class differs in type.
export const NodeRTCPeerConnection = TunedRTCPeerConnection as unknown as RTCPeerConnectionConstructor

/**
 * Stops node-datachannel's native threads, closing every peer connection it
 * still has in this process (its own and any other code's). A process that
 * used it exits only after this: a peer connection that never connected, or
 * a channel the remote side never closed, can hold a thread. Call it when
 * nothing in the process needs WebRTC any more; node-datachannel starts again
 * on the next peer connection.
 */
export function releaseNodeWebRTC (): void {
  cleanup()
}
