/*
 * gen-kpageflags FILE TILES: writes FILE (a raw kpageflags dump) TILES times to standard
 * output, for the streamed rows of Benchmarks/scan.sh: `gen-kpageflags one.kpf 655 |
 * memdesc analyze -` is the 16 TiB host's 32 GiB dump without a 32 GiB file on disk.
 *
 * The words are read once into memory. Onto a pipe they go by vmsplice(2), which hands
 * the pipe references to those pages instead of copying them, so that the generator
 * costs little of the two cores that the consumer (`cat`, `memdesc`) is measured on; the
 * pages are never written again, which is what makes that safe. Elsewhere it writes.
 * Build: cc -O2 -o gen-kpageflags Benchmarks/gen-kpageflags.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int put(int fd, const char *p, size_t n, int splice) {
  while (n > 0) {
    ssize_t k;
    if (splice) {
      struct iovec v = {(void *)p, n};
      k = vmsplice(fd, &v, 1, 0);
      if (k < 0 && errno == EINVAL) {  /* not a pipe after all */
        splice = 0;
        continue;
      }
    } else {
      k = write(fd, p, n);
    }
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return 1;  /* the reader stopped (an error it reported) */
      perror("gen-kpageflags: write");
      return 2;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: gen-kpageflags FILE TILES\n");
    return 64;
  }
  char *end;
  long tiles = strtol(argv[2], &end, 10);
  if (*end || tiles < 1) {
    fprintf(stderr, "gen-kpageflags: TILES '%s' is not a count from 1\n", argv[2]);
    return 64;
  }
  int in = open(argv[1], O_RDONLY);
  struct stat st;
  if (in < 0 || fstat(in, &st) != 0 || st.st_size <= 0 || st.st_size % 8 != 0) {
    fprintf(stderr, "gen-kpageflags: %s: not a readable raw dump (a non-zero multiple of 8 bytes)\n", argv[1]);
    return 1;
  }
  size_t size = (size_t)st.st_size;
  /* Page-aligned, so that vmsplice hands over whole pages. */
  char *words = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (words == MAP_FAILED) {
    perror("gen-kpageflags: mmap");
    return 1;
  }
  for (size_t done = 0; done < size;) {
    ssize_t k = read(in, words + done, size - done);
    if (k <= 0) {
      fprintf(stderr, "gen-kpageflags: %s: short read\n", argv[1]);
      return 1;
    }
    done += (size_t)k;
  }
  close(in);
  struct stat out;
  int splice = fstat(1, &out) == 0 && S_ISFIFO(out.st_mode);
  if (splice) (void)fcntl(1, F_SETPIPE_SZ, 1 << 20);
  for (long t = 0; t < tiles; t++) {
    int rc = put(1, words, size, splice);
    if (rc) return rc == 1 ? 0 : 1;
  }
  return 0;
}
