#include "CReference.h"

#include <string.h>

#define STRUCT_PAGE_SHIFT 6
#define PAGE_SHIFT 12
#define PTE_FRAME_MASK 0x000ffffffffff000ULL
#define COMPOUND_INFO_OFFSET 8

// Memmap.readPointer(va) followed by a 64-bit load.
static inline uint64_t read_word(uint64_t base, const uint64_t *ptes, const void *phys,
                                 uint64_t va) {
  uint64_t index = (va - base) >> PAGE_SHIFT;
  uint64_t pte = ptes[index];
  const char *host = (const char *)phys + ((pte & PTE_FRAME_MASK) | (va & 0xfff));
  uint64_t value;
  memcpy(&value, host, sizeof value);  // an aligned 8-byte load
  return value;
}

static inline uint64_t head_classic(uint64_t page, uint64_t info) {
  // Branch-free select: (info & 1) ? info - 1 : page.
  uint64_t tail = 0 - (info & 1);
  return (page & ~tail) | ((info - 1) & tail);
}

static inline uint64_t head_mask(uint64_t page, uint64_t info) {
  uint64_t m = (info & 1) - 1;
  m |= info;
  return page & m;
}

static inline uint64_t pfn_classic(uint64_t base, const uint64_t *ptes, const void *phys,
                                   uint64_t pfn) {
  uint64_t page = base + (pfn << STRUCT_PAGE_SHIFT);
  uint64_t info = read_word(base, ptes, phys, page + COMPOUND_INFO_OFFSET);
  return (head_classic(page, info) - base) >> STRUCT_PAGE_SHIFT;
}

static inline uint64_t pfn_mask(uint64_t base, const uint64_t *ptes, const void *phys,
                                uint64_t pfn) {
  uint64_t page = base + (pfn << STRUCT_PAGE_SHIFT);
  uint64_t info = read_word(base, ptes, phys, page + COMPOUND_INFO_OFFSET);
  return (head_mask(page, info) - base) >> STRUCT_PAGE_SHIFT;
}

__attribute__((noinline))
uint64_t cref_compound_head_classic(uint64_t base, const uint64_t *ptes, const void *phys,
                                    const uint64_t *pfns, size_t count) {
  uint64_t sum = 0;
  for (size_t i = 0; i < count; i++) sum += pfn_classic(base, ptes, phys, pfns[i]);
  return sum;
}

__attribute__((noinline))
uint64_t cref_compound_head_mask(uint64_t base, const uint64_t *ptes, const void *phys,
                                 const uint64_t *pfns, size_t count) {
  uint64_t sum = 0;
  for (size_t i = 0; i < count; i++) sum += pfn_mask(base, ptes, phys, pfns[i]);
  return sum;
}

uint64_t cref_compound_head_pfn_classic(uint64_t base, const uint64_t *ptes, const void *phys,
                                        uint64_t pfn) {
  return pfn_classic(base, ptes, phys, pfn);
}

uint64_t cref_compound_head_pfn_mask(uint64_t base, const uint64_t *ptes, const void *phys,
                                     uint64_t pfn) {
  return pfn_mask(base, ptes, phys, pfn);
}
