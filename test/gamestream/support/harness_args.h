/* `key=value` arguments for the Moonlight harnesses (moonlight_session.c,
 * moonlight_embedded_client.c): the tests pass every setting by name, so a harness run in a
 * log reads as what it was asked to do. */
#pragma once

#include <stdlib.h>
#include <string.h>

static inline const char* arg(int argc, char** argv, const char* key, const char* fallback) {
  size_t n = strlen(key);
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  }
  return fallback;
}

static inline long argl(int argc, char** argv, const char* key, long fallback) {
  const char* v = arg(argc, argv, key, NULL);
  return v == NULL ? fallback : strtol(v, NULL, 0);
}
