/**
 * The part of the WebSocket API the client uses: satisfied by browsers'
 * `WebSocket` and by the `ws` package's `WebSocket` in Node.
 */
export interface WebSocketLike {
  // Handlers take `never` so that both the DOM's and ws' event types fit;
  // the client declares the fields it reads (`data`, `code`, `reason`).
  readonly readyState: number
  readonly bufferedAmount: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: never) => void) | null
  onmessage: ((event: never) => void) | null
  onclose: ((event: never) => void) | null
  onerror: ((event: never) => void) | null
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

/** `WebSocket.OPEN` */
export const WS_OPEN = 1
