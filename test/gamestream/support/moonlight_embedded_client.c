/*
 * Moonlight Embedded's nvhttp client code (its libgamestream: serverinfo, pairing, applist,
 * launch/resume, quit, unpair) against the host, through libgamestream's public functions
 * (client.h), as moonlight-embedded's own `pair`, `list`, `stream`, `quit` and `unpair`
 * commands call them: our own small program for an interoperability test. With `stream`, the
 * launch is streamed for a moment with moonlight-common-c (LiStartConnection with the server
 * information libgamestream filled in), as moonlight-embedded streams.
 *
 *   moonlight_embedded_client KEY=VALUE...
 *     address (127.0.0.1), port (the host's HTTP port; HTTPS is learned from serverinfo),
 *     keydir (where the client's certificate, key and uniqueid live between runs),
 *     steps (comma-separated, run in order after gs_init, stopping at the first failure):
 *       pair      gs_pair with `pin` (4 digits, what Moonlight shows the user)
 *       applist   gs_applist; finds the app called `app` ("Desktop")
 *       launch    gs_start_app for that app (it resumes when serverinfo says one is running)
 *       stream    LiStartConnection; waits for `frames` frames (or `seconds`), then stops
 *       quit      gs_quit_app
 *       unpair    gs_unpair
 *       init      gs_init again (serverinfo as the client now sees it)
 *     width, height, fps (the mode asked for), unsupported (1: launch modes the host does not
 *     list, moonlight-embedded's default), formats (supportedVideoFormats, H.264 unless said),
 *     audio (channels: 2, 6 or 8), sops, localaudio, gamepads (gs_start_app's flags and gamepad
 *     mask), frames (20), seconds (30)
 *
 * stdout: one JSON line per step: {"step":…,"result":<GS_* code>,"error":<gs_error>,…}.
 * The exit status is 0 when every step returned GS_OK.
 */
#include <Limelight.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "errors.h"

#include "harness_args.h"

/* A JSON string (or null). */
static void json_string(const char* s) {
  if (s == NULL) {
    fputs("null", stdout);
    return;
  }
  putchar('"');
  for (const unsigned char* p = (const unsigned char*)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

/* Opens a step's line: {"step":"name","result":N,"error":"…" (only on failure). */
static void begin_step(const char* step, int result) {
  printf("{\"step\":");
  json_string(step);
  printf(",\"result\":%d,\"error\":", result);
  json_string(result == GS_OK ? NULL : gs_error);
}

static void end_step(void) {
  puts("}");
  fflush(stdout);
}

static void print_server(const SERVER_DATA* server) {
  int modes = 0;
  for (PDISPLAY_MODE m = server->modes; m != NULL; m = m->next) modes++;
  printf(",\"paired\":%s,\"currentGame\":%d,\"serverMajorVersion\":%d,\"httpsPort\":%u,\"codecs\":%d,\"modes\":%d,\"appVersion\":",
         server->paired ? "true" : "false", server->currentGame, server->serverMajorVersion, server->httpsPort,
         server->serverInfo.serverCodecModeSupport, modes);
  json_string(server->serverInfo.serverInfoAppVersion);
  printf(",\"gfeVersion\":");
  json_string(server->serverInfo.serverInfoGfeVersion);
  printf(",\"gpuType\":");
  json_string(server->gpuType);
}

/* What the stream delivers: counted, not decoded (the moonlight-common-c test judges pictures). */
static atomic_int frames, idr_frames, audio_packets, audio_channels, video_format;
static atomic_int failed_stage, failed_code, terminated, termination_code;

static int dr_setup(int format, int width, int height, int redraw, void* ctx, int flags) {
  (void)width; (void)height; (void)redraw; (void)ctx; (void)flags;
  video_format = format;
  return 0;
}

static int dr_submit(PDECODE_UNIT du) {
  frames++;
  if (du->frameType == FRAME_TYPE_IDR) idr_frames++;
  return DR_OK;
}

static int ar_init(int config, const POPUS_MULTISTREAM_CONFIGURATION c, void* ctx, int flags) {
  (void)config; (void)ctx; (void)flags;
  audio_channels = c->channelCount;
  return 0;
}

static void ar_sample(char* data, int length) {
  (void)data;
  if (length > 0) audio_packets++;
}

static void cl_stage_failed(int stage, int code) {
  failed_stage = stage;
  failed_code = code;
}

static void cl_terminated(int code) {
  termination_code = code;
  terminated = 1;
}

static void cl_log(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  vfprintf(stderr, format, ap);
  va_end(ap);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  char* address = strdup(arg(argc, argv, "address", "127.0.0.1"));
  unsigned short port = (unsigned short)argl(argc, argv, "port", 47989);
  const char* keydir = arg(argc, argv, "keydir", NULL);
  char* steps = strdup(arg(argc, argv, "steps", ""));
  bool unsupported = argl(argc, argv, "unsupported", 1) != 0;
  if (keydir == NULL) {
    fprintf(stderr, "keydir= is required\n");
    return 2;
  }

  SERVER_DATA server;
  memset(&server, 0, sizeof(server));
  /* log level 2: libgamestream prints every request and response (to stdout); 0 keeps stdout JSON. */
  int rc = gs_init(&server, address, port, keydir, 0, unsupported);
  begin_step("init", rc);
  print_server(&server);
  end_step();
  if (rc != GS_OK) return 1;

  STREAM_CONFIGURATION config;
  LiInitializeStreamConfiguration(&config);
  config.width = (int)argl(argc, argv, "width", 320);
  config.height = (int)argl(argc, argv, "height", 180);
  config.fps = (int)argl(argc, argv, "fps", 30);
  config.bitrate = 2000;
  config.packetSize = 1392;
  config.streamingRemotely = STREAM_CFG_LOCAL;
  long channels = argl(argc, argv, "audio", 2);
  config.audioConfiguration = channels == 8   ? AUDIO_CONFIGURATION_71_SURROUND
                              : channels == 6 ? AUDIO_CONFIGURATION_51_SURROUND
                                              : AUDIO_CONFIGURATION_STEREO;
  /* With a 10-bit format in it, gs_start_app asks for HDR (hdrMode=1 and the display's data). */
  config.supportedVideoFormats = (int)argl(argc, argv, "formats", VIDEO_FORMAT_H264);
  /* What moonlight-embedded leaves it at: LiInitializeStreamConfiguration's default. */
  const char* app = arg(argc, argv, "app", "Desktop");
  int app_id = -1;

  int failures = 0;
  for (char* save = NULL, *step = strtok_r(steps, ",", &save); step != NULL; step = strtok_r(NULL, ",", &save)) {
    gs_error = NULL;
    if (strcmp(step, "pair") == 0) {
      char* pin = strdup(arg(argc, argv, "pin", "0000"));
      rc = gs_pair(&server, pin);
      begin_step("pair", rc);
      printf(",\"paired\":%s", server.paired ? "true" : "false");
      free(pin);
    } else if (strcmp(step, "init") == 0) {
      SERVER_DATA again;
      memset(&again, 0, sizeof(again));
      rc = gs_init(&again, address, port, keydir, 0, unsupported);
      begin_step("init", rc);
      print_server(&again);
      if (rc == GS_OK) server = again;
    } else if (strcmp(step, "applist") == 0) {
      PAPP_LIST list = NULL;
      rc = gs_applist(&server, &list);
      begin_step("applist", rc);
      printf(",\"apps\":[");
      for (PAPP_LIST a = list; a != NULL; a = a->next) {
        if (a->name != NULL && strcmp(a->name, app) == 0) app_id = a->id;
        printf("{\"id\":%d,\"name\":", a->id);
        json_string(a->name);
        printf("}%s", a->next != NULL ? "," : "");
      }
      printf("],\"appId\":%d", app_id);
      if (rc == GS_OK && app_id < 0) rc = GS_INVALID;
    } else if (strcmp(step, "launch") == 0) {
      /* gs_start_app asks for /resume when serverinfo said a game is running, /launch otherwise. */
      bool resumed = server.currentGame != 0;
      rc = gs_start_app(&server, &config, app_id, argl(argc, argv, "sops", 0) != 0, argl(argc, argv, "localaudio", 0) != 0,
                        (int)argl(argc, argv, "gamepads", 0));
      begin_step("launch", rc);
      printf(",\"resume\":%s,\"appId\":%d,\"sessionUrl\":", resumed ? "true" : "false", app_id);
      json_string(server.serverInfo.rtspSessionUrl);
    } else if (strcmp(step, "stream") == 0) {
      DECODER_RENDERER_CALLBACKS video;
      LiInitializeVideoCallbacks(&video);
      video.setup = dr_setup;
      video.submitDecodeUnit = dr_submit;
      AUDIO_RENDERER_CALLBACKS audio;
      LiInitializeAudioCallbacks(&audio);
      audio.init = ar_init;
      audio.decodeAndPlaySample = ar_sample;
      CONNECTION_LISTENER_CALLBACKS listener;
      LiInitializeConnectionCallbacks(&listener);
      listener.stageFailed = cl_stage_failed;
      listener.connectionTerminated = cl_terminated;
      listener.logMessage = cl_log;
      int started = LiStartConnection(&server.serverInfo, &config, &listener, &video, &audio, NULL, 0, NULL, 0);
      double deadline = now_s() + (double)argl(argc, argv, "seconds", 30);
      long want = argl(argc, argv, "frames", 20);
      while (started == 0 && !terminated && frames < want && now_s() < deadline) usleep(20 * 1000);
      bool ended_by_host = terminated;
      if (started == 0) LiStopConnection();
      rc = started == 0 && frames >= want ? GS_OK : GS_FAILED;
      if (rc != GS_OK) gs_error = started != 0 ? "LiStartConnection failed" : ended_by_host ? "the host ended the stream" : "too few frames";
      begin_step("stream", rc);
      printf(",\"startResult\":%d,\"stageFailed\":%d,\"stageError\":%d,\"terminated\":%s,\"terminationCode\":%d,"
             "\"videoFormat\":%d,\"frames\":%d,\"idrFrames\":%d,\"audioPackets\":%d,\"audioChannels\":%d",
             started, failed_stage, failed_code, ended_by_host ? "true" : "false", termination_code, video_format, frames,
             idr_frames, audio_packets, audio_channels);
    } else if (strcmp(step, "quit") == 0) {
      rc = gs_quit_app(&server);
      begin_step("quit", rc);
    } else if (strcmp(step, "unpair") == 0) {
      rc = gs_unpair(&server);
      begin_step("unpair", rc);
    } else {
      fprintf(stderr, "unknown step '%s'\n", step);
      return 2;
    }
    end_step();
    if (rc != GS_OK) {
      failures++;
      break;
    }
  }
  return failures == 0 ? 0 : 1;
}
