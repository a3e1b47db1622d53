/*
 * A stream as Moonlight runs it, through moonlight-common-c's public API (Limelight.h): our own
 * small client for an interoperability test. The library does the RTSP handshake, the encrypted
 * ENet control stream, RTP video with its FEC and depacketizer, RTP audio with its FEC and
 * decryption; this program only hands it the server and stream description and counts what its
 * callbacks receive.
 *
 *   moonlight_session KEY=VALUE...
 *     address, url (sessionUrl0), appversion, gfeversion, codecs (ServerCodecModeSupport),
 *     width, height, fps, bitrate (kbps), packetsize, formats (supportedVideoFormats),
 *     encrypt (encryptionFlags), rikey (32 hex), rikeyid (signed decimal, as launched with),
 *     out (file for the Annex-B bitstream), seconds (give up after), ready (frames before
 *     "ready" is printed), idrat (frame count at which LiRequestIdrFrame is called, 0 = never),
 *     stopat (frames after which the client stops by itself, 0 = wait for the host to end it),
 *     audio (channels: 2, 6 or 8), input (1: send mouse, keyboard, text, scroll, gamepad and
 *     touch input once `ready` frames arrived), videoloss (percent of video datagrams lost on
 *     the way, 0 = none; needs the -Wl,--wrap=recvfrom link), videoburst (datagrams lost in a
 *     row each time, 1 unless said), audioloss (the same for audio, single datagrams),
 *     lossseed, slowopus (1: declare a slow Opus decoder, which asks for 10 ms audio packets),
 *     remote (1: STREAM_CFG_REMOTE, as Moonlight streams over the Internet), slices (slices per
 *     frame the decoder asks for)
 *
 * stdout: {"event":"started"} when LiStartConnection returned, {"event":"ready"} after `ready`
 * frames, then one summary line {"summary":...}. The library's log goes to stderr.
 */
#include <Limelight.h>
#include <math.h>
#include <opus/opus_multistream.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness_args.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static FILE* bitstream;
static atomic_int frames, idr_frames, idr_after_request, bytes_written;
static atomic_int request_at_frame = -1; /* frame number when LiRequestIdrFrame was called */
static atomic_int audio_packets, audio_lost, audio_decode_errors, audio_samples;
static OpusMSDecoder* opus;
static int opus_channels, opus_frame;
static float* pcm;
static double audio_peak; /* only touched on the library's audio thread */
static atomic_int failed_stage = 0, failed_code = 0;
static atomic_int terminated = 0, termination_code = 0;
static atomic_int video_format = 0, video_width = 0, video_height = 0;
static atomic_int audio_channels = 0, audio_frame_samples = 0;
static atomic_int setup_calls = 0;

/* Decoder: every decode unit is a whole frame, its buffers Annex-B NAL units (start codes included). */
static int dr_setup(int format, int width, int height, int redraw, void* ctx, int flags) {
  (void)redraw; (void)ctx; (void)flags;
  video_format = format;
  video_width = width;
  video_height = height;
  setup_calls++;
  return 0;
}

static int dr_submit(PDECODE_UNIT du) {
  for (PLENTRY e = du->bufferList; e != NULL; e = e->next) {
    if (bitstream != NULL) fwrite(e->data, 1, (size_t)e->length, bitstream);
    bytes_written += e->length;
  }
  frames++;
  if (du->frameType == FRAME_TYPE_IDR) {
    idr_frames++;
    int asked = request_at_frame;
    if (asked >= 0 && du->frameNumber > asked) idr_after_request++;
  }
  return DR_OK;
}

/* Audio: the Opus packets the library hands over (decrypted, FEC applied) are decoded with the
 * layout it negotiated, as a Moonlight client plays them: a packet that does not decode is a
 * broken sound stream (wrong key, wrong layout), which a count alone would not notice. */
static int ar_init(int config, const POPUS_MULTISTREAM_CONFIGURATION c, void* ctx, int flags) {
  (void)config; (void)ctx; (void)flags;
  audio_channels = c->channelCount;
  int err = 0;
  opus = opus_multistream_decoder_create(c->sampleRate, c->channelCount, c->streams, c->coupledStreams, c->mapping, &err);
  if (opus == NULL || err != OPUS_OK) {
    fprintf(stderr, "moonlight_session: opus_multistream_decoder_create: %d\n", err);
    return -1;
  }
  opus_channels = c->channelCount;
  opus_frame = c->samplesPerFrame;
  audio_frame_samples = c->samplesPerFrame;
  pcm = calloc((size_t)(opus_frame * opus_channels), sizeof(float));
  return pcm == NULL ? -1 : 0;
}

static void ar_cleanup(void) {
  if (opus != NULL) opus_multistream_decoder_destroy(opus);
  opus = NULL;
  free(pcm);
  pcm = NULL;
}

/* Opus packets as they come off the RTP audio queue; NULL means a lost packet to conceal. */
static void ar_sample(char* data, int length) {
  if (data == NULL || length == 0) {
    audio_lost++;
    return;
  }
  audio_packets++;
  if (opus == NULL) return;
  int n = opus_multistream_decode_float(opus, (const unsigned char*)data, length, pcm, opus_frame, 0);
  if (n < 0) {
    audio_decode_errors++;
    return;
  }
  audio_samples += n;
  for (int i = 0; i < n * opus_channels; i++) {
    if (fabs(pcm[i]) > audio_peak) audio_peak = fabs(pcm[i]);
  }
}

static void cl_stage_failed(int stage, int code) {
  fprintf(stderr, "moonlight_session: stage %s failed: %d\n", LiGetStageName(stage), code);
  failed_stage = stage;
  failed_code = code;
}

static void cl_terminated(int code) {
  fprintf(stderr, "moonlight_session: connection terminated: %d\n", code);
  termination_code = code;
  terminated = 1;
}

static void cl_log(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  fputs("moonlight-common-c: ", stderr);
  vfprintf(stderr, format, ap);
  va_end(ap);
}

/* Loss on the way, for video only: the harness is linked with -Wl,--wrap=recvfrom, so the
 * library's UDP receive (audio and video; ENet uses recvmsg) comes here first. A video datagram
 * (RTP 0x90, payload type 0) picked by a seeded generator is swallowed and reported as the receive
 * timeout the library's video loop already copes with (0), as if the network had lost it. The first
 * 50 video datagrams always pass, so the library sees the stream start before anything is lost.
 * An encrypted video datagram (the client asked for ENCFLG_VIDEO) shows no RTP header: it is
 * recognised by the 32-byte prefix's nonce, whose last byte this host sets to 'V' (audio's RTP
 * header has its SSRC there, 0), and counted apart, so the test sees which kind arrived. */
ssize_t __real_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* from, socklen_t* fromlen);
static int video_loss_percent, video_burst = 1, burst_left;
static uint32_t loss_state = 12345;
static atomic_int video_seen, video_dropped, video_encrypted_seen, video_plain_seen;

static int audio_loss_percent;
static uint32_t audio_loss_state = 54321;
static atomic_int audio_seen, audio_dropped;

ssize_t __wrap_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* from, socklen_t* fromlen) {
  ssize_t n = __real_recvfrom(fd, buf, len, flags, from, fromlen);
  const unsigned char* b = buf;
  const int encrypted_video = n > 48 && b[11] == 'V';
  const int plain_video = !encrypted_video && n > 16 && b[0] == 0x90 && (b[1] & 0x7f) == 0;
  if (encrypted_video) video_encrypted_seen++;
  if (plain_video) video_plain_seen++;
  if (encrypted_video || plain_video) {
    int seen = ++video_seen;
    loss_state = loss_state * 1103515245u + 12345u;
    /* A loss starts a burst of `videoburst` datagrams, as a full socket buffer loses them; bursts
     * start `videoburst` times less often, so about `videoloss` percent is lost either way. */
    if (burst_left > 0 || (seen > 50 && (int)((loss_state >> 16) % (100u * (unsigned)video_burst)) < video_loss_percent)) {
      burst_left = burst_left > 0 ? burst_left - 1 : video_burst - 1;
      video_dropped++;
      return 0;
    }
  } else if (n > 12 && b[0] == 0x80 && ((b[1] & 0x7f) == 97 || (b[1] & 0x7f) == 127)) {
    /* Audio (payload type 97 data, 127 parity) the same way, on the audio thread's own generator. */
    int seen = ++audio_seen;
    audio_loss_state = audio_loss_state * 1103515245u + 12345u;
    if (seen > 50 && (int)((audio_loss_state >> 16) % 100) < audio_loss_percent) {
      audio_dropped++;
      return 0;
    }
  }
  return n;
}

/* What a Moonlight user's hands send while streaming: the host may ignore it, but it must keep
 * the stream running. LI_ERR_UNSUPPORTED (the host did not announce the feature) is not a failure. */
static int input_sent, input_failed, input_at_frame = -1;

static void count_input(int rc) {
  if (rc == 0) input_sent++;
  else if (rc != LI_ERR_UNSUPPORTED) input_failed++;
}

static void send_input(void) {
  count_input(LiSendMouseMoveEvent(12, -7));
  count_input(LiSendMousePositionEvent(100, 50, 320, 180));
  count_input(LiSendMouseButtonEvent(BUTTON_ACTION_PRESS, BUTTON_LEFT));
  count_input(LiSendMouseButtonEvent(BUTTON_ACTION_RELEASE, BUTTON_LEFT));
  count_input(LiSendKeyboardEvent(0x41, KEY_ACTION_DOWN, MODIFIER_SHIFT));
  count_input(LiSendKeyboardEvent(0x41, KEY_ACTION_UP, MODIFIER_SHIFT));
  count_input(LiSendUtf8TextEvent("h\xc3\xa9", 3));
  count_input(LiSendScrollEvent(1));
  count_input(LiSendHighResScrollEvent(-60));
  count_input(LiSendHScrollEvent(1));
  count_input(LiSendControllerArrivalEvent(0, 1, LI_CTYPE_XBOX, A_FLAG | B_FLAG | X_FLAG | Y_FLAG, LI_CCAP_ANALOG_TRIGGERS | LI_CCAP_RUMBLE));
  count_input(LiSendMultiControllerEvent(0, 1, A_FLAG, 200, 0, 1000, -1000, 0, 0));
  count_input(LiSendMultiControllerEvent(0, 1, 0, 0, 0, 0, 0, 0, 0));
  count_input(LiSendTouchEvent(LI_TOUCH_EVENT_DOWN, 1, 0.5f, 0.5f, 1.0f, 0.0f, 0.0f, LI_ROT_UNKNOWN));
  count_input(LiSendTouchEvent(LI_TOUCH_EVENT_UP, 1, 0.5f, 0.5f, 1.0f, 0.0f, 0.0f, LI_ROT_UNKNOWN));
}

static int unhex(const char* hex, char* out, size_t n) {
  if (hex == NULL || strlen(hex) != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (char)v;
  }
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  SERVER_INFORMATION server;
  LiInitializeServerInformation(&server);
  server.address = arg(argc, argv, "address", "127.0.0.1");
  server.rtspSessionUrl = arg(argc, argv, "url", NULL);
  server.serverInfoAppVersion = arg(argc, argv, "appversion", "7.1.431.-1");
  server.serverInfoGfeVersion = arg(argc, argv, "gfeversion", "3.23.0.74");
  server.serverCodecModeSupport = (int)argl(argc, argv, "codecs", SCM_H264);

  STREAM_CONFIGURATION config;
  LiInitializeStreamConfiguration(&config);
  config.width = (int)argl(argc, argv, "width", 1280);
  config.height = (int)argl(argc, argv, "height", 720);
  config.fps = (int)argl(argc, argv, "fps", 60);
  config.bitrate = (int)argl(argc, argv, "bitrate", 10000);
  config.packetSize = (int)argl(argc, argv, "packetsize", 1392);
  config.streamingRemotely = argl(argc, argv, "remote", 0) ? STREAM_CFG_REMOTE : STREAM_CFG_LOCAL;
  long channels = argl(argc, argv, "audio", 2);
  config.audioConfiguration = channels == 8   ? AUDIO_CONFIGURATION_71_SURROUND
                              : channels == 6 ? AUDIO_CONFIGURATION_51_SURROUND
                                              : AUDIO_CONFIGURATION_STEREO;
  config.supportedVideoFormats = (int)argl(argc, argv, "formats", VIDEO_FORMAT_H264);
  config.encryptionFlags = (int)argl(argc, argv, "encrypt", ENCFLG_AUDIO);
  if (unhex(arg(argc, argv, "rikey", NULL), config.remoteInputAesKey, 16) != 0) {
    fprintf(stderr, "moonlight_session: rikey must be 32 hex digits\n");
    return 2;
  }
  /* As Moonlight launches: rikeyid is the IV's first four bytes read big-endian (as a signed int). */
  uint32_t keyId = (uint32_t)strtol(arg(argc, argv, "rikeyid", "0"), NULL, 10);
  memset(config.remoteInputAesIv, 0, sizeof(config.remoteInputAesIv));
  config.remoteInputAesIv[0] = (char)(keyId >> 24);
  config.remoteInputAesIv[1] = (char)(keyId >> 16);
  config.remoteInputAesIv[2] = (char)(keyId >> 8);
  config.remoteInputAesIv[3] = (char)keyId;

  const char* out = arg(argc, argv, "out", NULL);
  if (out != NULL && (bitstream = fopen(out, "wb")) == NULL) {
    perror(out);
    return 2;
  }
  double seconds = (double)argl(argc, argv, "seconds", 30);
  int ready = (int)argl(argc, argv, "ready", 30);
  int idrAt = (int)argl(argc, argv, "idrat", 0);
  int stopAt = (int)argl(argc, argv, "stopat", 0);
  int sendInput = (int)argl(argc, argv, "input", 0);
  video_loss_percent = (int)argl(argc, argv, "videoloss", 0);
  video_burst = (int)argl(argc, argv, "videoburst", 1);
  if (video_burst < 1) video_burst = 1;
  loss_state = (uint32_t)argl(argc, argv, "lossseed", 12345);
  audio_loss_percent = (int)argl(argc, argv, "audioloss", 0);
  audio_loss_state = loss_state ^ 0x5a5a5a5au;

  DECODER_RENDERER_CALLBACKS video;
  LiInitializeVideoCallbacks(&video);
  video.setup = dr_setup;
  video.submitDecodeUnit = dr_submit;
  /* Moonlight's software decoders ask for several slices per frame, to decode them in parallel. */
  video.capabilities |= CAPABILITY_SLICES_PER_FRAME((int)argl(argc, argv, "slices", 1));
  AUDIO_RENDERER_CALLBACKS audio;
  LiInitializeAudioCallbacks(&audio);
  audio.init = ar_init;
  audio.cleanup = ar_cleanup;
  audio.decodeAndPlaySample = ar_sample;
  /* A slow Opus decoder asks for 10 ms packets (5 ms otherwise). */
  if (argl(argc, argv, "slowopus", 0)) audio.capabilities |= CAPABILITY_SLOW_OPUS_DECODER;
  CONNECTION_LISTENER_CALLBACKS listener;
  LiInitializeConnectionCallbacks(&listener);
  listener.stageFailed = cl_stage_failed;
  listener.connectionTerminated = cl_terminated;
  listener.logMessage = cl_log;

  double deadline = now_s() + seconds;
  int started = LiStartConnection(&server, &config, &listener, &video, &audio, NULL, 0, NULL, 0);
  int timedOut = 0;
  if (started == 0) {
    printf("{\"event\":\"started\"}\n");
    int saidReady = 0;
    for (;;) {
      int n = frames;
      if (!saidReady && n >= ready) {
        saidReady = 1;
        if (sendInput) {
          input_at_frame = n;
          send_input();
        }
        printf("{\"event\":\"ready\"}\n");
      }
      if (idrAt > 0 && request_at_frame < 0 && n >= idrAt) {
        /* What Moonlight does when its decoder reports an error: ask the host for an IDR. */
        request_at_frame = n;
        LiRequestIdrFrame();
      }
      if (terminated || (stopAt > 0 && n >= stopAt)) break;
      if (now_s() > deadline) {
        timedOut = 1;
        break;
      }
      usleep(10000);
    }
    LiStopConnection();
  }
  if (bitstream != NULL) fclose(bitstream);
  const RTP_VIDEO_STATS* vs = LiGetRTPVideoStats();
  const RTP_AUDIO_STATS* as = LiGetRTPAudioStats();
  printf("{\"summary\":{\"startResult\":%d,\"stageFailed\":%d,\"stageError\":%d,\"terminated\":%s,"
         "\"terminationCode\":%d,\"timedOut\":%s,\"videoFormat\":%d,\"width\":%d,\"height\":%d,"
         "\"frames\":%d,\"idrFrames\":%d,\"idrAfterRequest\":%d,\"bytes\":%d,\"audioChannels\":%d,"
         "\"audioPackets\":%d,\"audioLost\":%d,\"audioDecodeErrors\":%d,\"audioSamples\":%d,\"audioPeak\":%g,\"videoPackets\":%u,\"videoFecRecovered\":%u,"
         "\"videoFecFailed\":%u,\"audioRtpPackets\":%u,\"audioInvalid\":%u,\"inputSent\":%d,"
         "\"inputFailed\":%d,\"framesAfterInput\":%d,\"videoDropped\":%d,\"audioFrameSamples\":%d,"
         "\"audioDropped\":%d,\"audioFecRecovered\":%u,\"audioFecFailed\":%u,"
         "\"videoEncryptedSeen\":%d,\"videoPlainSeen\":%d}}\n",
         started, (int)failed_stage, (int)failed_code, terminated ? "true" : "false", (int)termination_code,
         timedOut ? "true" : "false", (int)video_format, (int)video_width, (int)video_height, (int)frames,
         (int)idr_frames, (int)idr_after_request, (int)bytes_written, (int)audio_channels, (int)audio_packets,
         (int)audio_lost, (int)audio_decode_errors, (int)audio_samples, audio_peak, vs->packetCountVideo, vs->packetCountFecRecovered, vs->packetCountFecFailed,
         as->packetCountAudio, as->packetCountInvalid, input_sent, input_failed,
         input_at_frame < 0 ? 0 : (int)frames - input_at_frame, (int)video_dropped,
         (int)audio_frame_samples, (int)audio_dropped, as->packetCountFecRecovered, as->packetCountFecFailed,
         (int)video_encrypted_seen, (int)video_plain_seen);
  return 0;
}
