// A userfaultfd handler thread for Memdesc's lazy memmap: the host side of the
// model's deferred struct page initialisation (docs/boot.md, "Lazy memmap").
#ifndef MEMDESC_UFFD_H
#define MEMDESC_UFFD_H

#include <stddef.h>
#include <stdint.h>

/// Fills the bytes of the pages at [*start, *start + *len) that the handler will copy
/// in for a fault at `address` (page aligned). On entry *start/*len are the largest
/// aligned chunk around the fault inside its registered range; the callback may
/// shrink it to [address, address + 4096) but must keep `address` inside. It must not
/// touch registered memory. Returns 0, or -1 to copy zeros.
typedef int (*memdesc_uffd_fill_fn)(void *context, uint64_t address, uint64_t *start, size_t *len, void *buffer);

struct memdesc_uffd;

/// Opens a userfaultfd (the system call, then /dev/userfaultfd), registers each range
/// [starts[i], starts[i] + lengths[i]) for missing-page faults and starts the handler
/// thread. On failure returns NULL and writes the reason into `why`.
struct memdesc_uffd *memdesc_uffd_start(const uint64_t *starts, const uint64_t *lengths, size_t count,
                                        size_t chunk_bytes, memdesc_uffd_fill_fn fill, void *context,
                                        char *why, size_t why_len);

/// Stops the thread and closes the descriptor; the ranges stay registered until they
/// are unmapped (faults after this would hang, so unmap first or never touch again).
void memdesc_uffd_stop(struct memdesc_uffd *handler);

/// Faults handled and pages copied in so far.
uint64_t memdesc_uffd_faults(const struct memdesc_uffd *handler);
uint64_t memdesc_uffd_pages(const struct memdesc_uffd *handler);

#endif
