/**
 * Both ends of a GameStream audio test: the addon's sender and the test receiver, each closed
 * after the test that opened it (newest first), so a failing assertion never leaves a native
 * audio thread or a socket behind for the next test.
 */
import { audio, type GameStreamAudio } from "../../../src/native/audio.js"
import { AudioReceiver, type AudioReceiverOptions } from "./AudioReceiver.js"

export const makeAudioEnds = () => {
  const opened: Array<{ close(): void }> = []
  const track = <T extends { close(): void }>(o: T): T => {
    opened.push(o)
    return o
  }
  return {
    track,
    /** For `afterEach`. */
    closeAll: () => {
      for (const o of opened.splice(0).reverse()) o.close()
    },
    openHost: (bind = "127.0.0.1", port = 0): GameStreamAudio => track(new (audio().GameStreamAudio)(bind, port)),
    /** A receiver; with `pingEveryMs` it starts pinging the host at once. */
    openClient: async (options: AudioReceiverOptions, pingEveryMs?: number): Promise<AudioReceiver> => {
      const client = track(await AudioReceiver.open(options))
      if (pingEveryMs !== undefined) client.startPinging(pingEveryMs)
      return client
    }
  }
}
