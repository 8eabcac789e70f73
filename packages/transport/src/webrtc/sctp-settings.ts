import { setSctpSettings } from 'node-datachannel'
import type { SctpSettings } from 'node-datachannel'

export type { SctpSettings }

/**
 * node-datachannel's SCTP settings for Chiral's direct path in Node.
 *
 * usrsctp's defaults (≈ 256 KiB socket buffers) cap one association at
 * buffer / RTT: ≈ 3–16 MB/s at 40 ms RTT and ≈ 0.5 MB/s at 100 ms in the WAN
 * lab, far below the link. Measured in the lab (`pnpm bench bench/wan.ts`):
 *
 * - send and receive buffers of 8 MiB each: ≈ 41 MB/s at 40 ms and ≈ 16 MB/s
 *   at 100 ms RTT; raising only one of them changed nothing (the window is the
 *   smaller of the peer's receive buffer and our send buffer);
 * - under random loss the buffers do not help: SCTP halves its window on loss,
 *   so the rate is loss-limited (≈ MTU / (RTT × √p)); several associations
 *   (several direct paths raced side by side) multiply it.
 *
 * The settings are process-global in libdatachannel and only reach
 * associations created after the call, so they are applied once, before the
 * first peer connection (`NodeRTCPeerConnection` does it), and an app that
 * wants others calls `configureSctp()` before its first connection.
 */
export const DEFAULT_SCTP_SETTINGS: Readonly<SctpSettings> = Object.freeze({
  recvBufferSize: 8 * 1024 * 1024,
  sendBufferSize: 8 * 1024 * 1024
})

let applied: SctpSettings | undefined

/** Applies SCTP settings for every later peer connection of this process (the defaults unless given). */
export function configureSctp (settings: SctpSettings = DEFAULT_SCTP_SETTINGS): SctpSettings {
  setSctpSettings({ ...settings })
  applied = { ...settings }
  return applied
}

/** The settings in force, applying the defaults first if nothing was configured yet. */
export function ensureSctpConfigured (): SctpSettings {
  return applied ?? configureSctp()
}
