import { chunkLength, isChiralError } from '@chiral/core'
import { PIECE_HEADER_LENGTH, MIN_MESSAGE_SIZE } from '../protocol/constants.js'
import { allocatePiece, decodeMessage, encodeError, encodeReady } from '../protocol/messages.js'
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
}

/** What one session sent. */
export interface ServeSessionStats {
  chunks: number
  bytes: number
  /** The content id the receiver opened, once it did. */
  cid?: string
}

/**
 * Serves one receiver on one channel until the receiver closes it: answers
 * `Open` with the manifest (or `Ready`) and each `Request` with the chunk's
 * bytes, in request order, split into messages that fit the channel. Reads
 * only the requested ranges. Never throws: a broken channel ends the session.
 */
export async function serveSession (channel: MessageChannel, init: ServeSessionInit): Promise<ServeSessionStats> {
  const { log, signal } = init
  const stats: ServeSessionStats = { chunks: 0, bytes: 0 }
  const payloadMax = channel.maxMessageSize - PIECE_HEADER_LENGTH
  if (channel.maxMessageSize < MIN_MESSAGE_SIZE) {
    channel.abort(new Error(`Channel max message size ${channel.maxMessageSize} is below ${MIN_MESSAGE_SIZE}`))
    return stats
  }
  let content: SharedContent | undefined
  const onAbort = (): void => { channel.abort(new Error('Provider stopped')) }
  signal.addEventListener('abort', onAbort, { once: true })

  const sendPieces = async (kind: 'manifest' | 'chunk', first: number, bytes: Uint8Array): Promise<void> => {
    let offset = 0
    do {
      const length = Math.min(payloadMax, bytes.byteLength - offset)
      const message = allocatePiece(kind, first, offset, length)
      message.set(bytes.subarray(offset, offset + length), PIECE_HEADER_LENGTH)
      await channel.send(message, { signal })
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
      await channel.send(message, { signal })
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

  try {
    for await (const raw of channel) {
      const message = decodeMessage(raw)
      switch (message.type) {
        case 'open': {
          content = init.lookup(message.cid)
          stats.cid = message.cid.toString()
          init.onOpen?.(stats.cid)
          if (content == null) {
            log('unknown content %s', message.cid)
            await channel.send(encodeError(undefined, 'content-not-found', `No content ${message.cid.toString()} here`), { signal })
          } else if (message.wantManifest) {
            await sendPieces('manifest', content.encodedManifest.byteLength, content.encodedManifest)
          } else {
            await channel.send(encodeReady(), { signal })
          }
          break
        }
        case 'request': {
          for (const index of message.indices) {
            if (content == null) {
              await channel.send(encodeError(index, 'bad-request', 'No content is open on this channel'), { signal })
            } else if (index >= content.manifest.chunks.length) {
              await channel.send(encodeError(index, 'bad-request', `Chunk ${index} is out of range`), { signal })
            } else {
              try {
                await sendChunk(content, index)
              } catch (err) {
                if (!isChiralError(err, 'content-unavailable')) throw err
                log.error('cannot read chunk %d of %s - %e', index, content.manifest.cid, err)
                await channel.send(encodeError(index, 'content-unavailable', (err as Error).message), { signal })
              }
            }
          }
          break
        }
        default:
          await channel.send(encodeError(undefined, 'bad-request', `Unexpected ${message.type} message`), { signal })
          channel.abort(new Error(`Receiver sent a ${message.type} message`))
          return stats
      }
    }
    await channel.close({ signal: AbortSignal.timeout(5000) }).catch(() => {})
  } catch (err) {
    if (isChiralError(err, 'transfer-protocol-error')) {
      await channel.send(encodeError(undefined, 'bad-request', (err as Error).message)).catch(() => {})
    }
    log('session ended - %s', (err as Error).message)
    channel.abort(err as Error)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  return stats
}
