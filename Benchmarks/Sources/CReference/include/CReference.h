// compound_head() in plain C over the memory the Swift model uses.
//
// Each function walks `count` PFNs. For each one it computes the struct page's
// vmemmap address (base + pfn * 64), reads the page's `compound_info` word (offset 8)
// by translating that address through the model's vmemmap page table exactly as
// Swift's Memmap.readPointer does, decodes the head with the era's branch-free rule,
// and adds the head's PFN to a checksum, which it returns.
//
//   index = (va - base) >> 12
//   pte   = ptes[index]
//   host  = phys + ((pte & 0x000ffffffffff000) | (va & 0xfff))
//
// base: Memmap.base; ptes: Memmap.unsafePageTable; phys: Memmap.unsafePhysicalBase.
#ifndef CREFERENCE_H
#define CREFERENCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Classic encoding: a tail's word is head_va | 1; head = (info & 1) ? info - 1 : page.
uint64_t cref_compound_head_classic(uint64_t base, const uint64_t *ptes, const void *phys,
                                    const uint64_t *pfns, size_t count);

/// Mask encoding (Linux 7.1): m = (info & 1) - 1; m |= info; head = page & m.
uint64_t cref_compound_head_mask(uint64_t base, const uint64_t *ptes, const void *phys,
                                 const uint64_t *pfns, size_t count);

/// One decode, for checking the C and Swift sides agree on single PFNs.
uint64_t cref_compound_head_pfn_classic(uint64_t base, const uint64_t *ptes, const void *phys,
                                        uint64_t pfn);
uint64_t cref_compound_head_pfn_mask(uint64_t base, const uint64_t *ptes, const void *phys,
                                     uint64_t pfn);


// The classic era's order-0 allocate+free fast path (Buddy.c) over the Swift model's
// memmap (through its vmemmap page table, as above), list heads and zone counters
// (PageModel's UnsafeAllocatorState), for node 0 and GFP_KERNEL.

/// Kernel: struct list_head in struct free_area / per_cpu_pages, as the model keeps it:
/// first and last page (struct page addresses; the head's own address when empty), the
/// blocks listed, and the head's address, which the pages' links use for the head.
struct cref_list_head {
  uint64_t next, prev;
  int64_t count;
  uint64_t address;
};

struct cref_buddy {
  uint64_t base;              // Memmap.base
  const uint64_t *ptes;       // Memmap.unsafePageTable
  size_t pte_count;
  void *phys;                 // Memmap.unsafePhysicalBase
  struct cref_list_head *lists;
  int64_t lists_per_zone;
  char *counters;             // one record per zone of counter_stride bytes
  int64_t counter_stride;
  size_t off_free_pages, off_pcp_count, off_pcp_high, off_pcp_batch;
  const uint8_t *section_node;
  int pfn_section_shift;
  const int64_t *zone_index_table;  // node * 3 + zone type -> zone index
  const int64_t *zonelist;    // node 0, highest zone of GFP_KERNEL: length, then zones
  uint64_t head_flag;         // PG_head
  uint64_t prep_clear_flags;  // the flags free_pages_prepare() clears
};

/// One order-0 alloc_pages(GFP_KERNEL); the PFN, or -1.
int64_t cref_alloc_page(const struct cref_buddy *b);
/// __free_pages(pfn, 0).
void cref_free_page(const struct cref_buddy *b, uint64_t pfn);
/// The measured loops of the Swift benchmark (BenchSupport/Workloads.swift); each
/// returns the sum of the PFNs handed out.
uint64_t cref_alloc_free_pairs(const struct cref_buddy *b, size_t count);
uint64_t cref_alloc_free_ring(const struct cref_buddy *b, uint64_t *ring, size_t size, size_t *next,
                              size_t count);
uint64_t cref_alloc_free_bursts(const struct cref_buddy *b, uint64_t *pages, size_t n, size_t rounds);

#ifdef __cplusplus
}
#endif

#endif
