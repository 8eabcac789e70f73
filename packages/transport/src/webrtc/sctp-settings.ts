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
 *   so the rate is loss-limited (≈ 1.2 × MTU / (RTT × √p) ≈ 0.37 MB/s at 40 ms
 *   and 1 %; measured 0.3–0.5 MB/s). Nothing else in these settings moved it
 *   (rtt40-loss1, 4 MiB, `--sctp=…` on bench/wan.ts): congestion control
 *   modules 1 (HSTCP), 2 (H-TCP) and 3 (RTCC) 0.1–0.5 MB/s, delayed SACK off
 *   0.4, an initial window of 64 MTUs 0.3. Four associations side by side
 *   (four WebRTC paths) 0.4–0.7 MB/s. So only the buffers are set; under loss
 *   the race leans on the TCP paths (relay, hole-punched TCP), which is what
 *   the selector's measurements do by themselves.
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

/** Applies SCTP settings (over the defaults) for every later peer connection of this process. */
export function configureSctp (settings: SctpSettings = {}): SctpSettings {
  applied = { ...DEFAULT_SCTP_SETTINGS, ...settings }
  setSctpSettings({ ...applied })
  return applied
}

/** The settings in force, applying the defaults first if nothing was configured yet. */
export function ensureSctpConfigured (): SctpSettings {
  return applied ?? configureSctp()
}
