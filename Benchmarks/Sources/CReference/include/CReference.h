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

#ifdef __cplusplus
}
#endif

#endif
