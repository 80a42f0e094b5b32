// The handler thread behind the lazy memmap. It knows nothing of struct pages: for each
// missing-page fault in a registered range it asks the Swift side for the bytes of an
// aligned chunk around the fault and copies them in with UFFDIO_COPY, which maps the
// pages and wakes the faulting thread in one step.
#define _GNU_SOURCE
#include "memdesc_uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

struct memdesc_uffd {
  int fd;
  int stop_fd;
  pthread_t thread;
  size_t count;
  uint64_t *starts;
  uint64_t *lengths;
  size_t chunk;
  memdesc_uffd_fill_fn fill;
  void *context;
  void *buffer;
  _Atomic uint64_t faults;
  _Atomic uint64_t pages;
};

static int open_uffd(char *why, size_t why_len) {
  int fd = -1;
#ifdef SYS_userfaultfd
  fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (fd >= 0) return fd;
  int sys_errno = errno;
#else
  int sys_errno = ENOSYS;
#endif
  // Without vm.unprivileged_userfaultfd the system call wants CAP_SYS_PTRACE; the
  // device node is the other door (root, or whoever it is given to).
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev < 0) {
    snprintf(why, why_len, "userfaultfd(2): %s; /dev/userfaultfd: %s", strerror(sys_errno), strerror(errno));
    return -1;
  }
  fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
  int dev_errno = errno;
  close(dev);
  if (fd < 0) snprintf(why, why_len, "userfaultfd(2): %s; USERFAULTFD_IOC_NEW: %s", strerror(sys_errno), strerror(dev_errno));
  return fd;
}

// The registered range that holds `address`, or -1.
static long range_of(const struct memdesc_uffd *h, uint64_t address) {
  for (size_t i = 0; i < h->count; i++)
    if (address >= h->starts[i] && address - h->starts[i] < h->lengths[i]) return (long)i;
  return -1;
}

static void wake(int fd, uint64_t start, uint64_t len) {
  struct uffdio_range r = {.start = start, .len = len};
  ioctl(fd, UFFDIO_WAKE, &r);
}

// Copies [start, start + len) in; pages already there (another fault in the chunk
// came first) are skipped one by one. Always leaves the faulting page mapped or woken.
static void copy_in(struct memdesc_uffd *h, uint64_t start, size_t len, uint64_t fault) {
  uint64_t done = 0;
  while (done < len) {
    struct uffdio_copy c = {.dst = start + done, .src = (uint64_t)(uintptr_t)h->buffer + done, .len = len - done, .mode = 0};
    if (ioctl(h->fd, UFFDIO_COPY, &c) == 0) {
      atomic_fetch_add(&h->pages, (len - done) / 4096);
      return;
    }
    if (c.copy > 0) {
      atomic_fetch_add(&h->pages, (uint64_t)c.copy / 4096);
      done += (uint64_t)c.copy;
      continue;
    }
    if (errno == EAGAIN) continue;
    // EEXIST: this page is there already; anything else (ENOENT after munmap,
    // ESRCH after exit): give up on it. Either way move past it.
    done += 4096;
  }
  wake(h->fd, fault & ~(uint64_t)4095, 4096);
}

static void *run(void *arg) {
  struct memdesc_uffd *h = arg;
  struct pollfd fds[2] = {{.fd = h->fd, .events = POLLIN}, {.fd = h->stop_fd, .events = POLLIN}};
  for (;;) {
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    if (fds[1].revents) return NULL;
    if (fds[0].revents & (POLLERR | POLLHUP)) return NULL;
    struct uffd_msg msg;
    ssize_t got = read(h->fd, &msg, sizeof msg);
    if (got != (ssize_t)sizeof msg) continue;  // EAGAIN: another wake-up took it
    if (msg.event != UFFD_EVENT_PAGEFAULT) continue;
    atomic_fetch_add(&h->faults, 1);
    uint64_t fault = msg.arg.pagefault.address & ~(uint64_t)4095;
    long r = range_of(h, fault);
    if (r < 0) {
      wake(h->fd, fault, 4096);
      continue;
    }
    uint64_t lo = h->starts[r], hi = lo + h->lengths[r];
    uint64_t start = lo + ((fault - lo) / h->chunk) * h->chunk;
    uint64_t end = start + h->chunk < hi ? start + h->chunk : hi;
    size_t len = (size_t)(end - start);
    if (h->fill(h->context, fault, &start, &len, h->buffer) != 0) {
      start = fault;
      len = 4096;
      memset(h->buffer, 0, 4096);
    }
    copy_in(h, start, len, fault);
  }
}

struct memdesc_uffd *memdesc_uffd_start(const uint64_t *starts, const uint64_t *lengths, size_t count,
                                        size_t chunk_bytes, memdesc_uffd_fill_fn fill, void *context,
                                        char *why, size_t why_len) {
  if (why_len) why[0] = 0;
  int fd = open_uffd(why, why_len);
  if (fd < 0) return NULL;
  struct uffdio_api api = {.api = UFFD_API, .features = 0};
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    snprintf(why, why_len, "UFFDIO_API: %s", strerror(errno));
    close(fd);
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    struct uffdio_register reg = {.range = {.start = starts[i], .len = lengths[i]}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (ioctl(fd, UFFDIO_REGISTER, &reg) != 0) {
      snprintf(why, why_len, "UFFDIO_REGISTER of %llu bytes: %s", (unsigned long long)lengths[i], strerror(errno));
      close(fd);  // closing the descriptor unregisters what was registered
      return NULL;
    }
  }
  struct memdesc_uffd *h = calloc(1, sizeof *h);
  void *buffer = mmap(NULL, chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (!h || buffer == MAP_FAILED || stop_fd < 0) {
    snprintf(why, why_len, "handler set-up: %s", strerror(errno));
    if (buffer != MAP_FAILED) munmap(buffer, chunk_bytes);
    if (stop_fd >= 0) close(stop_fd);
    free(h);
    close(fd);
    return NULL;
  }
  h->fd = fd;
  h->stop_fd = stop_fd;
  h->count = count;
  h->starts = malloc(count * sizeof(uint64_t));
  h->lengths = malloc(count * sizeof(uint64_t));
  memcpy(h->starts, starts, count * sizeof(uint64_t));
  memcpy(h->lengths, lengths, count * sizeof(uint64_t));
  h->chunk = chunk_bytes;
  h->fill = fill;
  h->context = context;
  h->buffer = buffer;
  int err = pthread_create(&h->thread, NULL, run, h);
  if (err != 0) {
    snprintf(why, why_len, "pthread_create: %s", strerror(err));
    munmap(buffer, chunk_bytes);
    close(stop_fd);
    close(fd);
    free(h->starts);
    free(h->lengths);
    free(h);
    return NULL;
  }
  return h;
}

void memdesc_uffd_stop(struct memdesc_uffd *h) {
  if (!h) return;
  uint64_t one = 1;
  (void)!write(h->stop_fd, &one, sizeof one);
  pthread_join(h->thread, NULL);
  close(h->stop_fd);
  close(h->fd);
  munmap(h->buffer, h->chunk);
  free(h->starts);
  free(h->lengths);
  free(h);
}

uint64_t memdesc_uffd_faults(const struct memdesc_uffd *h) { return h ? atomic_load(&((struct memdesc_uffd *)h)->faults) : 0; }
uint64_t memdesc_uffd_pages(const struct memdesc_uffd *h) { return h ? atomic_load(&((struct memdesc_uffd *)h)->pages) : 0; }
