// SPDX-License-Identifier: LGPL-2.1-or-later
// Catch2 v2 main. With ASYNCAIO_REQUIRE_BACKEND=kernel the whole run is a
// SKIP (exit 77, CTest SKIP_RETURN_CODE) when the kernel lacks syslets, so a
// kernel-backend run never reports a pass for something that did not run.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "asyncaio/asyncaio.h"

int main(int argc, char** argv) {
  // CTest passes one variable (catch_discover_tests cannot pass a list):
  // ASYNCAIO_TEST_MODE=ctest:<backend>. Applied before the library's first
  // use, which is when it reads its environment.
  if (const char* mode = getenv("ASYNCAIO_TEST_MODE")) {
    if (strncmp(mode, "ctest", 5) == 0) setenv("ASYNCAIO_TEST_SKIP_EXIT", "1", 1);
    if (const char* colon = strchr(mode, ':')) setenv("ASYNCAIO_BACKEND", colon + 1, 1);
  }
  bool listing = false;
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--list", 6) == 0) listing = true;
  const char* need = getenv("ASYNCAIO_REQUIRE_BACKEND");
  if (!listing && need && *need && strcmp(need, asyncaio_backend()) != 0) {
    printf("SKIP: backend '%s' required but '%s' is in use (%s)\n", need, asyncaio_backend(),
           asyncaio_backend_reason());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}

#if defined(__SANITIZE_THREAD__)
// TSan sleeps 1 s at exit when threads exist (atexit_sleep_ms); every test
// case is its own process under CTest, so that would dominate the run.
extern "C" const char* __tsan_default_options() { return "atexit_sleep_ms=0:second_deadlock_stack=1"; }
#endif
