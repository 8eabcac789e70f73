/**
 * node-datachannel's standard RTCPeerConnection, for Node (export it from the
 * Node entry only: browsers use their own). Pass it as the WebRTC path's
 * `RTCPeerConnection` component.
 */
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import type { RTCPeerConnectionConstructor } from './peer-connection.js'

// The polyfill implements the standard interface; only its private event class differs in type.
export const NodeRTCPeerConnection = RTCPeerConnection as unknown as RTCPeerConnectionConstructor
