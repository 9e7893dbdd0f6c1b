/*
 * Shared by the fuzz targets of tests/fuzz: the libFuzzer entry point
 * every target defines, and what the targets need from the test set-up.
 *
 * A target is built twice: with clang and -fsanitize=fuzzer,address,
 * undefined (./dev fuzz, build-fuzz/), where libFuzzer provides main();
 * and in the normal build with fuzz_main.c, a driver that replays files
 * (the seeds from tests/data and the reproducers under tests/fuzz/repro/).
 */
#ifndef RED_FUZZ_H
#define RED_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/** Runs one input; returns 0 (libFuzzer's contract). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** A path under the source tree (RED_SRCDIR), malloc'd; aborts without it. */
char *fuzz_src_path(const char *rel);

/**
 * A file that holds the input for loaders that read paths: a memfd,
 * rewritten per input, named "/proc/self/fd/N" (a regular file to
 * red_yaml). Returns the path (static).
 */
const char *fuzz_input_file(const uint8_t *data, size_t size);

#endif
