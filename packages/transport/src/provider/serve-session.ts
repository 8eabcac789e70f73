import { chunkLength, isChiralError } from '@chiral/core'
import { TransferProtocolError } from '../errors.js'
import { PIECE_HEADER_LENGTH, MIN_MESSAGE_SIZE } from '../protocol/constants.js'
import { allocatePiece, decodeMessage, encodeError, encodeReady } from '../protocol/messages.js'
import { IdleTimer } from './idle-timer.js'
import { resolveSessionLimits } from './session-limits.js'
import { SessionWork } from './session-work.js'
import type { SessionLimits } from './session-limits.js'
import type { SessionTask } from './session-work.js'
import type { ContentSource } from './content-source.js'
import type { ContentId, Manifest, MessageChannel } from '@chiral/core'
import type { Logger } from '@libp2p/interface'

/** A shared content id: its manifest, the manifest's wire form, and where its bytes are. */
export interface SharedContent {
  manifest: Manifest
  encodedManifest: Uint8Array
  source: ContentSource
}

/**
 * Sees each chunk's bytes just before they are sent and may return other bytes.
 * A test seam for fault injection (bit flips, a provider that lies); leave it
 * unset in real use.
 */
export type ChunkHook = (info: { cid: ContentId, index: number, bytes: Uint8Array }) => Uint8Array | undefined

export interface ServeSessionInit {
  lookup(cid: ContentId): SharedContent | undefined
  log: Logger
  signal: AbortSignal
  chunkHook?: ChunkHook
  /** Called after each chunk was handed to the channel. */
  onChunkSent?(bytes: number): void
  /** Called when the receiver opens a content id. */
  onOpen?(cid: string): void
  /** Memory and time bounds (defaults: see `SessionLimits`). */
  limits?: Partial<SessionLimits>
}

/** What one session sent. */
export interface ServeSessionStats {
  chunks: number
  bytes: number
  /** The content id the receiver opened, once it did. */
  cid?: string
  /** Why the provider ended the session, when it did (`idle`, `bad-request`, `send-timeout`). */
  closedBy?: 'idle' | 'bad-request' | 'send-timeout'
}

/**
 * Serves one receiver on one channel until the receiver closes it: answers
 * `Open` with the manifest (or `Ready`) and each `Request` with the chunk's
 * bytes, in request order, split into messages that fit the channel. Reads
 * only the requested ranges. Never throws: a broken channel ends the session.
 *
 *   channel ──► reader ──► SessionWork (≤ maxOutstanding) ──► sender ──► channel.send
 *
 * The reader validates each message as it arrives: a chunk already queued or
 * being sent is skipped, too many outstanding is `bad-request` and the end of
 * the session. The sender awaits each `send`, so what waits ahead of the
 * channel is bounded by `maxOutstanding` indexes. With nothing outstanding
 * and no message for `idleTimeout`, the provider closes the session.
 */
export async function serveSession (channel: MessageChannel, init: ServeSessionInit): Promise<ServeSessionStats> {
  const { log, signal } = init
  const limits = resolveSessionLimits(init.limits)
  const stats: ServeSessionStats = { chunks: 0, bytes: 0 }
  const payloadMax = channel.maxMessageSize - PIECE_HEADER_LENGTH
  if (channel.maxMessageSize < MIN_MESSAGE_SIZE) {
    channel.abort(new Error(`Channel max message size ${channel.maxMessageSize} is below ${MIN_MESSAGE_SIZE}`))
    return stats
  }
  const work = new SessionWork(limits.maxOutstanding)
  let failed = false
  const fail = (err: Error): void => {
    if (failed) return
    failed = true
    idle.stop()
    work.clear()
    channel.abort(err)
  }
  const idle = new IdleTimer(limits.idleTimeout, () => {
    if (!work.idle || failed) return
    log('session idle for %d ms, closing it', limits.idleTimeout)
    stats.closedBy = 'idle'
    work.clear()
    void channel.close({ signal: AbortSignal.timeout(2000) }).catch(() => {}).finally(() => { fail(new Error('Session idle')) })
  })
  const onAbort = (): void => { fail(new Error('Provider stopped')) }
  signal.addEventListener('abort', onAbort, { once: true })

  const sendOptions = (): { signal: AbortSignal } => ({
    signal: Number.isFinite(limits.sendTimeout) ? AbortSignal.any([signal, AbortSignal.timeout(limits.sendTimeout)]) : signal
  })

  const send = async (message: Uint8Array): Promise<void> => {
    try {
      await channel.send(message, sendOptions())
    } catch (err) {
      if ((err as Error).name === 'TimeoutError' && !signal.aborted) stats.closedBy = 'send-timeout'
      throw err
    }
  }

  const sendPieces = async (kind: 'manifest' | 'chunk', first: number, bytes: Uint8Array): Promise<void> => {
    let offset = 0
    do {
      const length = Math.min(payloadMax, bytes.byteLength - offset)
      const message = allocatePiece(kind, first, offset, length)
      message.set(bytes.subarray(offset, offset + length), PIECE_HEADER_LENGTH)
      await send(message)
      offset += length
    } while (offset < bytes.byteLength)
  }

  const sendChunk = async (shared: SharedContent, index: number): Promise<void> => {
    const { manifest, source } = shared
    const length = chunkLength(manifest, index)
    const start = index * manifest.chunkSize
    if (length <= payloadMax && init.chunkHook == null) {
      // The common case: one message, file bytes read straight into it.
      const message = allocatePiece('chunk', index, 0, length)
      await source.read(start, message.subarray(PIECE_HEADER_LENGTH), { signal })
      await send(message)
    } else {
      let bytes: Uint8Array = new Uint8Array(length)
      await source.read(start, bytes, { signal })
      bytes = init.chunkHook?.({ cid: manifest.cid, index, bytes }) ?? bytes
      await sendPieces('chunk', index, bytes)
    }
    stats.chunks++
    stats.bytes += length
    init.onChunkSent?.(length)
  }

  const answer = async (task: SessionTask): Promise<void> => {
    switch (task.kind) {
      case 'open':
        if (task.content == null) {
          log('unknown content %s', task.cid)
          await send(encodeError(undefined, 'content-not-found', `No content ${task.cid} here`))
        } else if (task.wantManifest) {
          await sendPieces('manifest', task.content.encodedManifest.byteLength, task.content.encodedManifest)
        } else {
          await send(encodeReady())
        }
        break
      case 'error':
        await send(encodeError(task.index, task.code, task.message))
        break
      case 'chunk':
        try {
          await sendChunk(task.content, task.index)
        } catch (err) {
          if (!isChiralError(err, 'content-unavailable')) throw err
          log.error('cannot read chunk %d of %s - %e', task.index, task.content.manifest.cid, err)
          await send(encodeError(task.index, 'content-unavailable', (err as Error).message))
        }
        break
    }
  }

  const queue = (task: SessionTask): void => {
    const result = work.add(task)
    if (result === 'full') {
      throw new TransferProtocolError(`More than ${limits.maxOutstanding} requests outstanding`)
    }
  }

  /** Reads and validates every message; ends when the receiver ends its writes. */
  const read = async (): Promise<void> => {
    let content: SharedContent | undefined
    idle.start()
    for await (const raw of channel) {
      idle.stop()
      const message = decodeMessage(raw)
      switch (message.type) {
        case 'open': {
          content = init.lookup(message.cid)
          stats.cid = message.cid.toString()
          init.onOpen?.(stats.cid)
          queue({ kind: 'open', content, cid: stats.cid, wantManifest: message.wantManifest })
          break
        }
        case 'request': {
          for (const index of message.indices) {
            if (content == null) {
              queue({ kind: 'error', index, code: 'bad-request', message: 'No content is open on this channel' })
            } else if (index >= content.manifest.chunks.length) {
              queue({ kind: 'error', index, code: 'bad-request', message: `Chunk ${index} is out of range` })
            } else {
              queue({ kind: 'chunk', content, index })
            }
          }
          break
        }
        default:
          throw new TransferProtocolError(`Unexpected ${message.type} message`)
      }
      if (work.idle) idle.start()
    }
    idle.stop()
    work.end()
  }

  /** Answers the tasks in order, one `send` at a time. */
  const answerAll = async (): Promise<void> => {
    for (let task = await work.next(); task !== undefined; task = await work.next()) {
      await answer(task)
      work.done()
      if (work.idle && !failed) idle.start()
    }
  }

  const reading = read().catch(async (err: Error) => {
    if (failed) return
    if (isChiralError(err, 'transfer-protocol-error')) {
      stats.closedBy = 'bad-request'
      failed = true
      idle.stop()
      work.clear()
      log('bad request - %s', err.message)
      await channel.send(encodeError(undefined, 'bad-request', err.message), { signal: AbortSignal.timeout(1000) }).catch(() => {})
      failed = false
    }
    fail(err)
    throw err
  })
  const answering = answerAll().catch((err: Error) => {
    fail(err)
    throw err
  })
  try {
    await Promise.all([reading, answering])
    idle.stop()
    await channel.close({ signal: AbortSignal.timeout(5000) }).catch(() => {})
  } catch (err) {
    await Promise.allSettled([reading, answering])
    log('session ended - %s', (err as Error).message)
  } finally {
    idle.stop()
    signal.removeEventListener('abort', onAbort)
  }
  return stats
}
