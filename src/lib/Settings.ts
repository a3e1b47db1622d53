/**
 * Every setting the host reads, with its default and one line of meaning: the host's options
 * (`HostCommand.ts`: one per setting, this line its help). Why a list beside `Config.ts` rather than inside it: the
 * Effect `Config` values there do not expose their names, and a flag with a typo (`--prot 80`)
 * must be refused by name instead of being silently ignored while the host starts on its
 * default port. A test keeps this list and the names `Config.ts` reads the same.
 */
export interface Setting {
  readonly name: string
  readonly fallback: string
  readonly about: string
  /**
   * The setting's earlier name, still read (environment and flag) for operators whose unit files
   * say it: the host logs one line naming the new name when only the old one is set, and the new
   * one wins when both are.
   */
  readonly formerly?: string
}

export const HOST_SETTINGS: ReadonlyArray<Setting> = [
  { name: "PUNKTFUNK_PORT", fallback: "47990", about: "management API and console (0 picks a free port)" },
  { name: "PUNKTFUNK_BIND", fallback: "127.0.0.1", about: "address of the management API; beyond loopback it serves HTTPS with the host's certificate" },
  { name: "PUNKTFUNK_CONFIG_DIR", fallback: "~/.config/punktfunk", about: "token, captures, certificates" },
  { name: "PUNKTFUNK_CAPTURES_DIR", fallback: "<config>/captures", about: "where captures are saved" },
  { name: "PUNKTFUNK_TOKEN_FILE", fallback: "<config>/token", about: "bearer token (generated 0600 on first start; a file group or others can read stops the start)" },
  { name: "PUNKTFUNK_SOURCE", fallback: "synthetic", about: "what clients see: synthetic, static or x11 (none: synthetic); captured and encoded only while a client streams or for --demo" },
  { name: "PUNKTFUNK_DISPLAY", fallback: "$DISPLAY", about: "X display for x11" },
  { name: "PUNKTFUNK_WIDTH", fallback: "1280", about: "stream width for --demo (a client asks for its own)" },
  { name: "PUNKTFUNK_HEIGHT", fallback: "720", about: "stream height for --demo (a client asks for its own)" },
  { name: "PUNKTFUNK_FPS", fallback: "60", about: "frames per second for --demo (a client asks for its own)" },
  { name: "PUNKTFUNK_CODEC", fallback: "h264", about: "h264 or hevc for --demo (a client asks for its own)" },
  { name: "PUNKTFUNK_ENCODER", fallback: "auto", about: "auto, libx264, libx265, h264_nvenc, hevc_nvenc" },
  { name: "PUNKTFUNK_PRESET", fallback: "ultrafast", about: "software encoder preset" },
  { name: "PUNKTFUNK_TUNE", fallback: "zerolatency", about: "software encoder tune" },
  { name: "PUNKTFUNK_FRAME_PRIORITY", fallback: "normal", about: "normal or realtime: realtime runs the frame thread and the encoder's threads under SCHED_RR while they keep up (needs CAP_SYS_NICE or RLIMIT_RTPRIO ≥ 10; falls back to normal and says why)" },
  { name: "PUNKTFUNK_BITRATE_KBPS", fallback: "10000", about: "bitrate target for --demo (a client asks for its own)" },
  { name: "PUNKTFUNK_PERF", fallback: "0", about: "measure every frame and log a perf line per window" },
  { name: "PUNKTFUNK_FAKE_WINDOW_MS", fallback: "2000", about: "window length of the fake source (tests)" },
  { name: "PUNKTFUNK_DEMO", fallback: "0", about: "the bundled client pairs itself and streams over loopback" },
  // Were PUNKTFUNK_NATIVE_*: "native" now means only the addon (issue 13.8); the old names stay read.
  { name: "PUNKTFUNK_PUNKTFUNK1_PORT", fallback: "47970", about: "punktfunk/1 control port", formerly: "PUNKTFUNK_NATIVE_PORT" },
  {
    name: "PUNKTFUNK_PUNKTFUNK1_CLIENT_TIMEOUT_MS",
    fallback: "10000",
    about: "a silent punktfunk/1 client is gone after this",
    formerly: "PUNKTFUNK_NATIVE_CLIENT_TIMEOUT_MS"
  },
  { name: "PUNKTFUNK_STREAM_BIND", fallback: "0.0.0.0", about: "address of the streaming ports" },
  { name: "PUNKTFUNK_GAMESTREAM", fallback: "1", about: "GameStream (Moonlight) path on/off" },
  { name: "PUNKTFUNK_GAMESTREAM_HTTP_PORT", fallback: "47989", about: "nvhttp over HTTP" },
  { name: "PUNKTFUNK_GAMESTREAM_HTTPS_PORT", fallback: "47984", about: "nvhttp over HTTPS" },
  { name: "PUNKTFUNK_GAMESTREAM_RTSP_PORT", fallback: "48010", about: "RTSP (TCP)" },
  { name: "PUNKTFUNK_GAMESTREAM_VIDEO_PORT", fallback: "47998", about: "RTP video (UDP)" },
  { name: "PUNKTFUNK_GAMESTREAM_CONTROL_PORT", fallback: "47999", about: "ENet control (UDP)" },
  { name: "PUNKTFUNK_GAMESTREAM_AUDIO_PORT", fallback: "48000", about: "RTP audio (UDP)" },
  { name: "PUNKTFUNK_GAMESTREAM_CLIENT_TIMEOUT_MS", fallback: "10000", about: "a played stream whose client never opens its control stream is given up" },
  { name: "PUNKTFUNK_GAMESTREAM_CONTROL_PEERS", fallback: "64", about: "ENet control peers at once, handshakes included; when full, the oldest unauthenticated one goes" },
  { name: "PUNKTFUNK_GAMESTREAM_CONTROL_PEERS_PER_ADDRESS", fallback: "4", about: "ENet control peers from one IP address" },
  { name: "PUNKTFUNK_GAMESTREAM_CONTROL_AUTH_TIMEOUT_MS", fallback: "5000", about: "an ENet control peer (or handshake) that has not authenticated by then is dropped" },
  {
    name: "PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV",
    fallback: "0",
    about: "1: accept Moonlight clients that keep the legacy control-stream IV (repeating AES-GCM nonces: input can be forged and keystream reused to read what is typed); 0: refuse them (RTSP 461)"
  },
  { name: "PUNKTFUNK_GAMESTREAM_MDNS", fallback: "1", about: "announce the host to Moonlight over mDNS" },
  { name: "PUNKTFUNK_INPUT", fallback: "1", about: "Moonlight's mouse and keyboard reach the captured X display; 0: view-only" },
  { name: "PUNKTFUNK_AUDIO", fallback: "auto", about: "GameStream sound: auto, pulse or silence" },
  { name: "PUNKTFUNK_AUDIO_DEVICE", fallback: "", about: "PulseAudio source to record (default: the default sink's monitor)" },
  { name: "PUNKTFUNK_MAX_CONNECTIONS", fallback: "128", about: "open connections per TCP listener; when full, the oldest one not yet authenticated is closed for a newcomer" },
  { name: "PUNKTFUNK_MAX_CONNECTIONS_PER_ADDRESS", fallback: "16", about: "open connections per TCP listener from one address (the socket's, never a forwarded header)" },
  { name: "PUNKTFUNK_HEADER_TIMEOUT_MS", fallback: "10000", about: "a TCP connection must finish its TLS handshake and first request or message within this" },
  { name: "PUNKTFUNK_IDLE_TIMEOUT_MS", fallback: "30000", about: "a TCP connection silent this long is closed (live event streams and pairing waits are exempt)" },
  { name: "PUNKTFUNK_MAX_LIVE_SUBSCRIBERS", fallback: "8", about: "live event streams (SSE) open at once; more are refused with 503" },
  {
    name: "PUNKTFUNK_IMPORT_MAX_BYTES",
    fallback: "67108864",
    about: "largest capture file POST /api/v1/stats/recordings/import takes (64 MiB); a longer body is refused with 413 as it streams in, before it is parsed"
  },
  { name: "PUNKTFUNK_WEB_DIR", fallback: "web/dist", about: "the console's built files" },
  { name: "PUNKTFUNK_LOG_FORMAT", fallback: "human", about: "log lines: human ([time] LEVEL (#fiber): message) or json (one JSON object per line, for log collectors)" },
  { name: "PUNKTFUNK_LOG_LEVEL", fallback: "info", about: "least severe log level written: trace, debug, info, warning or error" }
]

/** `PUNKTFUNK_GAMESTREAM_HTTP_PORT` → `--gamestream-http-port`. */
export const flagOf = (name: string): string => `--${name.replace(/^PUNKTFUNK_/, "").toLowerCase().replace(/_/g, "-")}`
