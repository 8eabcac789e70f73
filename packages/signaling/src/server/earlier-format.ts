import type { RegisterMessage } from '../protocol/messages.js'

/**
 * The wire format a connection is served: ours, or the earlier design's
 * (PROTOCOL.md, "Compatibility with the earlier format").
 */
export type WireFormat = 'chiral' | 'earlier'

/**
 * Decided once, by the `register` frame. The earlier design's `register` is
 * `{type, clientId}` and nothing else; ours carries `format: "chiral"` (and a
 * signed or roomed one is ours in any case, the earlier design had neither).
 */
export function wireFormatOf (m: RegisterMessage): WireFormat {
  const ours = m.format === 'chiral' || m.room !== undefined || m.signature !== undefined || m.publicKey !== undefined
  return ours ? 'chiral' : 'earlier'
}

type Frame = Record<string, unknown> & { type?: unknown }

/**
 * Rewrites the frames one earlier-format connection receives, after they
 * were built for our format (locally, or by another instance of a cluster):
 *
 * - after every `peer-joined` / `peer-left` delta, a fresh full `peers`
 *   list follows: the earlier design's clients learn about peers from
 *   `peers` frames alone, and ignore frame types they do not know;
 * - an offer or answer whose sender is one of our clients carries `sdp` as
 *   a session description object (`{type, sdp}`); from another
 *   earlier-format connection it passes as it was sent.
 *
 * The connection's format is a guess from its `register` alone, which is
 * the same for an earlier client and for an anonymous, room-less client of
 * our protocol that does not send `format`. Both are served: deltas stay,
 * and frames between two such connections are not rewritten.
 *
 * The room view is built from the connection's own `peers` reply and the
 * deltas that follow it, so it needs nothing from the registry.
 */
export class EarlierFormatFrames {
  private peers: Set<string> | undefined

  /** The frames to send for control frame `text`, in order. */
  control (text: string): string[] {
    const frame = JSON.parse(text) as Frame
    switch (frame.type) {
      case 'peers':
        this.peers = new Set(frame.peers as string[])
        return [text]
      case 'peer-joined':
      case 'peer-left':
        // Before the registration's own list there is no view to update; the list follows.
        if (this.peers === undefined) return [text]
        if (frame.type === 'peer-joined') this.peers.add(frame.clientId as string)
        else this.peers.delete(frame.clientId as string)
        return [text, JSON.stringify({ type: 'peers', peers: [...this.peers] })]
      default:
        return [text]
    }
  }

  /** Forwarded frame `text`, from a sender served `senderFormat`, as this connection gets it. */
  forward (text: string, senderFormat: WireFormat): string {
    if (senderFormat === 'earlier') return text
    const frame = JSON.parse(text) as Frame
    if ((frame.type !== 'offer' && frame.type !== 'answer') || typeof frame.sdp !== 'string') return text
    frame.sdp = { type: frame.type, sdp: frame.sdp }
    return JSON.stringify(frame)
  }
}
