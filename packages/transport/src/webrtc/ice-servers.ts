/**
 * Public STUN servers used when the configuration names none. Production
 * default only: tests and labs always pass their own list (empty on loopback).
 */
export const DEFAULT_ICE_SERVERS: readonly RTCIceServer[] = Object.freeze([
  { urls: ['stun:stun.l.google.com:19302', 'stun:stun1.l.google.com:19302'] },
  { urls: 'stun:stun.cloudflare.com:3478' }
])

/** The part of RTCConfiguration the WebRTC path takes from its settings. */
export interface IceConfig {
  /** STUN/TURN servers; defaults to {@link DEFAULT_ICE_SERVERS}. */
  iceServers?: RTCIceServer[]
  /** `relay` forces TURN; defaults to `all`. */
  iceTransportPolicy?: RTCIceTransportPolicy
}

/** The RTCConfiguration of one peer connection (a fresh copy each time: implementations may mutate it). */
export function rtcConfiguration (config: IceConfig): RTCConfiguration {
  const servers = config.iceServers ?? DEFAULT_ICE_SERVERS
  return {
    iceServers: servers.map(s => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : s.urls })),
    iceTransportPolicy: config.iceTransportPolicy ?? 'all'
  }
}
