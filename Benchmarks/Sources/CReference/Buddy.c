// The classic era's order-0 allocate+free fast path in plain C, over the Swift model's
// own memmap, list heads and zone counters (see include/CReference.h). Every step is the
// model's (Sources/PageModel/Core/PageAlloc.swift, BuddyAllocator.swift, FreeList.swift,
// Page64/Page64Format.swift), in the same order, so a run leaves the same bytes.
#include "CReference.h"

#include <stdlib.h>
#include <string.h>

#define STRUCT_PAGE_SHIFT 6
#define PAGE_SHIFT 12
#define PTE_FRAME_MASK 0x000ffffffffff000ULL
#define MAX_PAGE_ORDER 10
#define NR_PAGE_ORDERS (MAX_PAGE_ORDER + 1)
#define PAGE_ALLOC_COSTLY_ORDER 3
#define PAGEBLOCK_ORDER 9
#define PCP_LISTS (PAGE_ALLOC_COSTLY_ORDER + 2)

// struct page field offsets (StructPageLayout).
#define PG_FLAGS 0
#define PG_LRU_NEXT 8
#define PG_LRU_PREV 16
#define PG_MAPPING 24
#define PG_PRIVATE 40
#define PG_MAPCOUNT 48
#define PG_REFCOUNT 52
#define PG_MEMCG 56

#define PAGE_TYPE_BUDDY 0xf0u
#define PAGE_NO_TYPE 0xffffffffu
#define LIST_POISON1 0xdead000000000100ULL
#define LIST_POISON2 0xdead000000000122ULL

typedef const struct cref_buddy B;

// Memmap.readPointer: the vmemmap address through the model's page table.
static inline char *host(B *b, uint64_t va) {
  uint64_t pte = b->ptes[(va - b->base) >> PAGE_SHIFT];
  return (char *)b->phys + ((pte & PTE_FRAME_MASK) | (va & 0xfff));
}

// Memmap.writePointer, and Memmap.set's oops on a fault: the PTE must be present and
// writable.
static inline char *host_w(B *b, uint64_t va) {
  uint64_t index = (va - b->base) >> PAGE_SHIFT;
  if (index >= b->pte_count) abort();
  uint64_t pte = b->ptes[index];
  if ((pte & 3) != 3) abort();
  return (char *)b->phys + ((pte & PTE_FRAME_MASK) | (va & 0xfff));
}

static inline uint64_t ld64(B *b, uint64_t page, int off) {
  uint64_t v;
  memcpy(&v, host(b, page + off), 8);
  return v;
}
static inline uint32_t ld32(B *b, uint64_t page, int off) {
  uint32_t v;
  memcpy(&v, host(b, page + off), 4);
  return v;
}
static inline void st64(B *b, uint64_t page, int off, uint64_t v) { memcpy(host_w(b, page + off), &v, 8); }
static inline void st32(B *b, uint64_t page, int off, uint32_t v) { memcpy(host_w(b, page + off), &v, 4); }

static inline uint64_t page_of_pfn(B *b, uint64_t pfn) { return b->base + (pfn << STRUCT_PAGE_SHIFT); }
static inline uint64_t pfn_of_page(B *b, uint64_t page) { return (page - b->base) >> STRUCT_PAGE_SHIFT; }

static inline struct cref_list_head *list(B *b, int64_t zone, int index) {
  return b->lists + zone * b->lists_per_zone + index;
}
static inline int64_t *counter(B *b, int64_t zone, size_t off) {
  return (int64_t *)(b->counters + zone * b->counter_stride + off);
}

// page_zone(): the section's node and the zone type's fixed PFN limits.
static inline int64_t zone_of_pfn(B *b, uint64_t pfn) {
  uint64_t node = b->section_node[pfn >> b->pfn_section_shift];
  int type = pfn < 0x1000 ? 0 : pfn < 0x100000 ? 1 : 2;
  return b->zone_index_table[node * 3 + type];
}

// list_add() / list_add_tail() / list_del() on a list_head at page + 8; the head's own
// address stands for the head in the links.
static inline uint64_t entry(uint64_t page, uint64_t sentinel) { return page == sentinel ? sentinel : page + 8; }
static inline uint64_t unentry(uint64_t e, uint64_t sentinel) { return e == sentinel ? sentinel : e - 8; }

static inline void list_add(B *b, uint64_t page, struct cref_list_head *h) {
  uint64_t s = h->address, next = h->next;
  st64(b, page, PG_LRU_NEXT, entry(next, s));
  st64(b, page, PG_LRU_PREV, s);
  if (next == s) h->prev = page; else st64(b, next, PG_LRU_PREV, page + 8);
  h->next = page;
  h->count++;
}

static inline void list_add_tail(B *b, uint64_t page, struct cref_list_head *h) {
  uint64_t s = h->address, prev = h->prev;
  st64(b, page, PG_LRU_NEXT, s);
  st64(b, page, PG_LRU_PREV, entry(prev, s));
  if (prev == s) h->next = page; else st64(b, prev, PG_LRU_NEXT, page + 8);
  h->prev = page;
  h->count++;
}

static inline void list_del(B *b, uint64_t page, struct cref_list_head *h) {
  uint64_t s = h->address;
  uint64_t next = unentry(ld64(b, page, PG_LRU_NEXT), s), prev = unentry(ld64(b, page, PG_LRU_PREV), s);
  if (prev == s) h->next = next; else st64(b, prev, PG_LRU_NEXT, entry(next, s));
  if (next == s) h->prev = prev; else st64(b, next, PG_LRU_PREV, entry(prev, s));
  st64(b, page, PG_LRU_NEXT, LIST_POISON1);
  st64(b, page, PG_LRU_PREV, LIST_POISON2);
  h->count--;
}

// set_buddy_order() / __ClearPageBuddy() / buddy_order() if PageBuddy(), else -1.
static inline void set_buddy(B *b, uint64_t page, int order) {
  st64(b, page, PG_PRIVATE, (uint64_t)order);
  st32(b, page, PG_MAPCOUNT, PAGE_TYPE_BUDDY << 24);
}
static inline void clear_buddy(B *b, uint64_t page) {
  st32(b, page, PG_MAPCOUNT, PAGE_NO_TYPE);
  st64(b, page, PG_PRIVATE, 0);
}
static inline int64_t buddy_order(B *b, uint64_t page) {
  if (ld32(b, page, PG_MAPCOUNT) >> 24 != PAGE_TYPE_BUDDY) return -1;
  return (int64_t)ld64(b, page, PG_PRIVATE);
}

// __free_one_page(): merge with free buddies of the same zone, then list the block.
static void free_one_page(B *b, uint64_t pfn, int order, int64_t zone) {
  int64_t pages = (int64_t)1 << order;
  while (order < MAX_PAGE_ORDER) {
    uint64_t buddy_pfn = pfn ^ ((uint64_t)1 << order);
    uint64_t buddy = page_of_pfn(b, buddy_pfn);
    if (buddy_order(b, buddy) != order || zone_of_pfn(b, buddy_pfn) != zone) break;
    list_del(b, buddy, list(b, zone, order));
    clear_buddy(b, buddy);
    pfn &= buddy_pfn;
    order++;
  }
  uint64_t head = page_of_pfn(b, pfn);
  set_buddy(b, head, order);
  list_add(b, head, list(b, zone, order));
  *counter(b, zone, b->off_free_pages) += pages;
}

// __rmqueue_smallest() with expand(): the smallest free block of at least `order`,
// its upper halves back on the free lists. Returns the PFN, or -1.
static int64_t rmqueue_smallest(B *b, int64_t zone, int order) {
  for (int current = order; current <= MAX_PAGE_ORDER; current++) {
    struct cref_list_head *area = list(b, zone, current);
    uint64_t page = area->next;
    if (page == area->address) continue;
    list_del(b, page, area);
    clear_buddy(b, page);
    uint64_t pfn = pfn_of_page(b, page);
    uint64_t size = (uint64_t)1 << current;
    for (int high = current; high > order;) {
      high--;
      size >>= 1;
      uint64_t half = page_of_pfn(b, pfn + size);
      set_buddy(b, half, high);
      list_add(b, half, list(b, zone, high));
    }
    *counter(b, zone, b->off_free_pages) -= (int64_t)1 << order;
    return (int64_t)pfn;
  }
  return -1;
}

static inline int pcp_order(int pindex) { return pindex <= PAGE_ALLOC_COSTLY_ORDER ? pindex : PAGEBLOCK_ORDER; }
static inline int pcp_index(int order) {
  return NR_PAGE_ORDERS + (order <= PAGE_ALLOC_COSTLY_ORDER ? order : PAGE_ALLOC_COSTLY_ORDER + 1);
}

// free_pcppages_bulk(): the oldest pages first, list by list round-robin from pindex.
static void free_pcppages_bulk(B *b, int64_t zone, int64_t count, int pindex) {
  int64_t *pcp_count = counter(b, zone, b->off_pcp_count);
  int64_t to_free = count < *pcp_count ? count : *pcp_count;
  while (to_free > 0) {
    int order = pcp_order(pindex);
    struct cref_list_head *h = list(b, zone, pcp_index(order));
    while (to_free > 0 && h->prev != h->address) {
      uint64_t page = h->prev;
      list_del(b, page, h);
      *pcp_count -= (int64_t)1 << order;
      to_free -= (int64_t)1 << order;
      free_one_page(b, pfn_of_page(b, page), order, zone);
    }
    pindex = pindex == PCP_LISTS - 1 ? 0 : pindex + 1;
  }
}

// rmqueue() -> rmqueue_pcplist() for order 0: pop the per-CPU list, refilled with a
// batch from the buddy lists (rmqueue_bulk()) when empty. Returns the PFN, or -1.
static inline int64_t rmqueue_order0(B *b, int64_t zone) {
  if (*counter(b, zone, b->off_pcp_high) <= 0) return rmqueue_smallest(b, zone, 0);
  struct cref_list_head *h = list(b, zone, pcp_index(0));
  int64_t *pcp_count = counter(b, zone, b->off_pcp_count);
  if (h->next == h->address) {
    int64_t batch = *counter(b, zone, b->off_pcp_batch);
    for (int64_t i = 0; i < batch; i++) {
      int64_t pfn = rmqueue_smallest(b, zone, 0);
      if (pfn < 0) break;
      list_add_tail(b, page_of_pfn(b, (uint64_t)pfn), h);
      *pcp_count += 1;
    }
    if (h->next == h->address) return -1;
  }
  uint64_t page = h->next;
  list_del(b, page, h);
  *pcp_count -= 1;
  return (int64_t)pfn_of_page(b, page);
}

// alloc_pages(GFP_KERNEL, 0): the zone list's zones in turn, then prep_new_page().
static inline int64_t alloc_page0(B *b) {
  const int64_t *zl = b->zonelist;
  for (int64_t i = 1; i <= zl[0]; i++) {
    int64_t pfn = rmqueue_order0(b, zl[i]);
    if (pfn >= 0) {
      uint64_t page = page_of_pfn(b, (uint64_t)pfn);
      st64(b, page, PG_PRIVATE, 0);
      st32(b, page, PG_REFCOUNT, 1);
      return pfn;
    }
  }
  return -1;
}

// __free_pages(page, 0): put_page_testzero(), free_pages_prepare(), then
// free_unref_page_commit() with the drain of a batch once the list reaches `high`.
static inline void free_page0(B *b, uint64_t pfn) {
  uint64_t page = page_of_pfn(b, pfn);
  uint32_t ref = ld32(b, page, PG_REFCOUNT);
  st32(b, page, PG_REFCOUNT, ref - 1);
  if (ref != 1) return;
  uint64_t flags = ld64(b, page, PG_FLAGS);
  if (flags & b->head_flag) abort();  // a compound page is not an order-0 page
  st64(b, page, PG_FLAGS, flags & ~b->prep_clear_flags);
  st64(b, page, PG_MAPPING, 0);
  st64(b, page, PG_MEMCG, 0);
  int64_t zone = zone_of_pfn(b, pfn);
  if (*counter(b, zone, b->off_pcp_high) <= 0) {
    free_one_page(b, pfn, 0, zone);
    return;
  }
  list_add(b, page, list(b, zone, pcp_index(0)));
  int64_t *pcp_count = counter(b, zone, b->off_pcp_count);
  *pcp_count += 1;
  if (*pcp_count >= *counter(b, zone, b->off_pcp_high))
    free_pcppages_bulk(b, zone, *counter(b, zone, b->off_pcp_batch), 0);
}

int64_t cref_alloc_page(const struct cref_buddy *b) { return alloc_page0(b); }
void cref_free_page(const struct cref_buddy *b, uint64_t pfn) { free_page0(b, pfn); }

__attribute__((noinline))
uint64_t cref_alloc_free_pairs(const struct cref_buddy *b, size_t count) {
  uint64_t sum = 0;
  for (size_t i = 0; i < count; i++) {
    int64_t p = alloc_page0(b);
    if (p < 0) abort();
    free_page0(b, (uint64_t)p);
    sum += (uint64_t)p;
  }
  return sum;
}

__attribute__((noinline))
uint64_t cref_alloc_free_ring(const struct cref_buddy *b, uint64_t *ring, size_t size, size_t *next,
                              size_t count) {
  uint64_t sum = 0;
  size_t n = *next;
  for (size_t i = 0; i < count; i++) {
    free_page0(b, ring[n]);
    int64_t p = alloc_page0(b);
    if (p < 0) abort();
    ring[n] = (uint64_t)p;
    sum += (uint64_t)p;
    if (++n == size) n = 0;
  }
  *next = n;
  return sum;
}

__attribute__((noinline))
uint64_t cref_alloc_free_bursts(const struct cref_buddy *b, uint64_t *pages, size_t n, size_t rounds) {
  uint64_t sum = 0;
  for (size_t r = 0; r < rounds; r++) {
    for (size_t i = 0; i < n; i++) {
      int64_t p = alloc_page0(b);
      if (p < 0) abort();
      pages[i] = (uint64_t)p;
      sum += (uint64_t)p;
    }
    for (size_t i = 0; i < n; i++) free_page0(b, pages[i]);
  }
  return sum;
}
