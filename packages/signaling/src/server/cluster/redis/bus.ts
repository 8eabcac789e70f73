/**
 * Names and messages of the Redis backend. Keys (all under the prefix `P`):
 *
 *     P instances          sorted set: instance id → last refresh (ms, Redis clock)
 *     P instance:<iid>     set of the ids that instance holds
 *     P peer:<id>          hash { instance, token, room }: who holds an id
 *     P room:<room>        set of the ids in a room
 *     P version            counter: one more for every join or leave
 *
 * Channels: `P room:<room>` carries joins and leaves (published by the Lua
 * scripts, in the same atomic step that changes the keys); `P instance:<iid>`
 * carries what is addressed to one instance: signals, takeovers, bounces.
 * Every message is JSON, validated here once as it arrives.
 */
import { z } from 'zod'
import { SIGNALING_ERROR_CODES } from '../../../errors.js'
import { clientIdSchema } from '../../../protocol/messages.js'

export class Channels {
  private readonly roomPrefix: string

  constructor (readonly prefix: string) {
    this.roomPrefix = `${prefix}room:`
  }

  room (room: string): string {
    return this.roomPrefix + room
  }

  instance (instanceId: string): string {
    return `${this.prefix}instance:${instanceId}`
  }

  /** The room of a room channel; undefined for other channels. */
  roomOf (channel: string): string | undefined {
    return channel.startsWith(this.roomPrefix) ? channel.slice(this.roomPrefix.length) : undefined
  }
}

const instanceIdSchema = clientIdSchema

export const roomEventSchema = z.object({
  t: z.enum(['joined', 'left']),
  id: clientIdSchema,
  i: instanceIdSchema,
  /** The membership version this change created. */
  v: z.number().int().nonnegative()
})

export const instanceMessageSchema = z.discriminatedUnion('t', [
  /** A signal frame (already stamped with `from`) for the local client `to`, sent by instance `o`. */
  z.object({ t: z.literal('fwd'), to: clientIdSchema, from: clientIdSchema, o: instanceIdSchema, f: z.string() }),
  /** A registration elsewhere took `id` over; the local one with `token` is stale. */
  z.object({ t: z.literal('replaced'), id: clientIdSchema, token: z.string().min(1).max(128) }),
  /** A signal sent by the local client `to` could not be delivered. */
  z.object({ t: z.literal('bounce'), to: clientIdSchema, code: z.enum(SIGNALING_ERROR_CODES), message: z.string().max(512) })
])

export type RoomEvent = z.infer<typeof roomEventSchema>
export type InstanceMessage = z.infer<typeof instanceMessageSchema>

/** Parses one pub/sub message; undefined when it is not JSON or not of the schema. */
export function parseBusMessage<T> (schema: z.ZodType<T>, text: string): T | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const parsed = schema.safeParse(value)
  return parsed.success ? parsed.data : undefined
}
