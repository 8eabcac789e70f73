/**
 * node-datachannel's standard RTCPeerConnection, for Node (export it from the
 * Node entry only: browsers use their own). Pass it as the WebRTC path's
 * `RTCPeerConnection` component. The first one created applies Chiral's SCTP
 * settings (see `sctp-settings.ts`) unless the app configured its own.
 */
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
