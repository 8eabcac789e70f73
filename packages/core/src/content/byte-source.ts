import { InvalidArgumentError } from '../errors.js'

/** Anything Chiral can read a file's bytes from, once, front to back. */
export type ByteSource =
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>

/** Turns any ByteSource into an async iterable of Uint8Array pieces. */
export function toAsyncIterable (source: ByteSource): AsyncIterable<Uint8Array> {
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return readableToIterable(source.stream())
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    return readableToIterable(source)
  }
  if (source != null && typeof source === 'object' && (Symbol.asyncIterator in source || Symbol.iterator in source)) {
    return source as AsyncIterable<Uint8Array>
  }
  throw new InvalidArgumentError('Expected a Blob, a ReadableStream or an (async) iterable of Uint8Array')
}

async function * readableToIterable (stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader()
  try {
    while (true) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

/**
 * Re-cuts a stream of pieces into chunks of exactly `chunkSize` bytes (the
 * last one may be shorter). Each yielded chunk is a fresh buffer the caller
 * may keep; memory held is one chunk plus the piece being read.
 */
export async function * chunked (source: AsyncIterable<Uint8Array>, chunkSize: number): AsyncGenerator<Uint8Array> {
  let chunk = new Uint8Array(chunkSize)
  let filled = 0
  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) {
      throw new InvalidArgumentError('Byte source yielded something other than a Uint8Array')
    }
    let offset = 0
    while (offset < piece.byteLength) {
      const take = Math.min(chunkSize - filled, piece.byteLength - offset)
      chunk.set(piece.subarray(offset, offset + take), filled)
      filled += take
      offset += take
      if (filled === chunkSize) {
        yield chunk
        chunk = new Uint8Array(chunkSize)
        filled = 0
      }
    }
  }
  if (filled > 0) {
    yield chunk.subarray(0, filled)
  }
}
