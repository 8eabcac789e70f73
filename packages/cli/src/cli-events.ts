/**
 * What the commands report, one event at a time. With `--json` each event is
 * one line on stdout, exactly these objects; the other modes turn them into
 * text (output.ts, human-output.ts).
 */
import type { Reachability } from '@chiral/peer'

export type CliEvent =
  /**
   * The peer runs: its id, the node it uses, and whether others can dial it
   * directly so far (`peer.reachability`: `private`/`relay-only` at once
   * without `--listen`, else usually still `checking`).
   */
  | { event: 'started', command: 'share' | 'get', peerId: string, signaling: string, relays: string[], reachability: Reachability }
  /** The AutoNAT v2 check (with `--listen`) came to a result after `started`: `public` or `private`. */
  | { event: 'reachability', reachability: Reachability }
  /** Hashing a file to share (throttled in JSON). */
  | { event: 'hashing', file: string, bytes: number, total: number }
  /** A file is shared and announced. */
  | { event: 'shared', file: string, name: string, size: number, cid: string, link?: string }
  /** Every file is shared; serving until SIGINT/SIGTERM. */
  | { event: 'ready', files: number }
  /** A peer asked for shared content on a session (one per path it uses). */
  | { event: 'serve', session: number, peerId?: string, method: string, cid?: string }
  /** A session ended: what it sent. */
  | { event: 'served', session: number, peerId?: string, method: string, cid?: string, bytes: number, chunks: number, durationMs: number, rate: number }
  /** Looking for providers (again: `search` counts). */
  | { event: 'finding', cid: string, search: number }
  /** A path to a provider: a dial started, it is up, a dial failed, it went down. */
  | { event: 'path', type: 'dialing' | 'up' | 'failed' | 'down', peerId: string, path: string, method: string, setupMs?: number, attempt?: number, error?: string }
  /** Verified bytes so far (throttled in JSON). */
  | { event: 'progress', cid: string, bytes: number, total: number, rate: number, method: string, state: 'fetching' | 'reconnecting' }
  /** New requests moved to another path. */
  | { event: 'switch', peerId: string, from?: string, to: string, method: string, atBytes: number }
  /** The file verified and is in place. */
  | {
    event: 'done'
    cid: string
    name: string
    path: string
    method: string
    bytes: number
    /** Bytes received in this run; `resumedBytes` were already on disk. */
    transferredBytes: number
    resumedBytes: number
    bytesByMethod: Record<string, number>
    durationMs: number
    /** `transferredBytes` per second of `durationMs`. */
    rate: number
    /** Moves of new requests from one path to another (the start not counted). */
    switches: number
    recoveries: number
  }
  /** `share` stopped serving (on a signal). */
  | { event: 'stopped', signal: string }
  /** The command failed: `message` is the line printed on stderr (without `chiral: `). */
  | { event: 'error', code: string, message: string, exitCode: number }

export type CliEventName = CliEvent['event']
