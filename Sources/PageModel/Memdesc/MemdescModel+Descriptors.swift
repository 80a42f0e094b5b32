/// The descriptor slab allocator of the memdesc eras: SLUB-like caches whose slab pages
/// are pages of the same machine (see `SlabDescriptorLayout`).
extension MemdescModel {
  /// Host address of a descriptor byte, from its direct-map address.
  @inlinable @inline(__always)
  func descriptorPointer(_ address: UInt64) -> UnsafeMutableRawPointer {
    let (pfn, offset) = DirectMap.location(address)
    return machine.memory.frame(pfn) + offset
  }

  /// The page's memdesc: its word, or for a page memdesc8 has retyped HWPoison the word
  /// it had before, which its `struct hwpoison` keeps (the page still belongs there).
  @inlinable @inline(__always)
  func memdescWord(_ pfn: PFN) -> UInt64 {
    let word: UInt64 = memmap.load(memmap.address(of: pfn), Format.memdescOffset)
    guard !Format.hasPageFlags, Format.type(of: word) == .hwPoison else { return word }
    return descriptorPointer(word & ~MemdescType.mask).load(fromByteOffset: HWPoisonLayout.memdesc, as: UInt64.self)
  }

  @inlinable @inline(__always)
  func setMemdescWord(_ pfn: PFN, _ word: UInt64) {
    let p = memmap.address(of: pfn)
    let old: UInt64 = memmap.load(p, Format.memdescOffset)
    if !Format.hasPageFlags, Format.type(of: old) == .hwPoison {
      descriptorPointer(old & ~MemdescType.mask).storeBytes(of: word, toByteOffset: HWPoisonLayout.memdesc, as: UInt64.self)
    } else {
      memmap.set(p, Format.memdescOffset, word)
    }
  }

  /// Allocates a descriptor of `kind`; nil when the machine has no page for a new slab.
  /// Kernel: `kmem_cache_alloc()`.
  func descriptorAlloc(_ kind: DescriptorKind) -> UInt64? {
    let cache = descriptorCaches[kind.index]
    while let slab = cache.partial.last {
      // A stale entry: the slab was discarded (and its page maybe reused) since.
      guard Format.type(of: memdescWord(slab)) == .slab else {
        cache.partial.removeLast()
        continue
      }
      let desc = descriptorPointer(slabDescriptor(of: slab))
      let free = desc.load(fromByteOffset: SlabDescriptorLayout.freelist, as: UInt64.self)
      guard free != 0, desc.load(fromByteOffset: SlabDescriptorLayout.cache, as: UInt64.self) == UInt64(kind.index) else {
        cache.partial.removeLast()  // full, or now a slab of another cache
        continue
      }
      let next = descriptorPointer(free).load(as: UInt64.self)
      desc.storeBytes(of: next, toByteOffset: SlabDescriptorLayout.freelist, as: UInt64.self)
      let counters = desc.load(fromByteOffset: SlabDescriptorLayout.counters, as: UInt64.self)
      desc.storeBytes(of: counters + 1, toByteOffset: SlabDescriptorLayout.counters, as: UInt64.self)
      if next == 0 { cache.partial.removeLast() }
      if cache.emptySlab == slab { cache.emptySlab = nil }
      descriptorPointer(free).initializeMemory(as: UInt8.self, repeating: 0, count: cache.objectSize)
      cache.objects += 1
      return free
    }
    guard newSlab(cache) else { return nil }
    return descriptorAlloc(kind)
  }

  /// The `struct slab` address of a slab page, from its memdesc word.
  @inlinable func slabDescriptor(of slab: PFN) -> UInt64 { memdescWord(slab) & ~MemdescType.mask }

  /// Makes a new slab page for `cache` and puts it on the partial list.
  /// Kernel: `new_slab()` -> `allocate_slab()`.
  func newSlab(_ cache: DescriptorCache) -> Bool {
    guard let pfn = allocPages(order: 0) else { return false }
    let base = machine.memory.frame(pfn)
    // Thread the free list through the objects.
    let first = cache.kind == .slab ? 1 : 0  // the slab-descriptor cache hosts its own
    for i in first..<cache.objectsPerSlab {
      let next = i + 1 < cache.objectsPerSlab ? DirectMap.address(pfn, offset: (i + 1) * cache.objectSize) : 0
      (base + i * cache.objectSize).storeBytes(of: next, as: UInt64.self)
    }
    let descAddress: UInt64
    if cache.kind == .slab {
      descAddress = DirectMap.address(pfn)
    } else {
      guard let d = descriptorAlloc(.slab) else {
        freePages(pfn, order: 0)
        return false
      }
      descAddress = d
    }
    let desc = descriptorPointer(descAddress)
    desc.initializeMemory(as: UInt8.self, repeating: 0, count: DescriptorKind.slab.objectSize)
    let zone = machine.zones[machine.zoneIndex(of: pfn)]
    desc.storeBytes(of: PageFlagsLayout.links(zone: zone.type, node: zone.node), toByteOffset: SlabDescriptorLayout.flags, as: UInt64.self)
    desc.storeBytes(of: UInt64(cache.kind.index), toByteOffset: SlabDescriptorLayout.cache, as: UInt64.self)
    desc.storeBytes(of: DirectMap.address(pfn, offset: first * cache.objectSize), toByteOffset: SlabDescriptorLayout.freelist, as: UInt64.self)
    desc.storeBytes(of: UInt64(first) | UInt64(cache.objectsPerSlab) << 16, toByteOffset: SlabDescriptorLayout.counters, as: UInt64.self)
    setMemdescWord(pfn, descAddress | Format.tag(.slab))
    if cache.kind == .slab { cache.objects += 1 }
    cache.partial.append(pfn)
    cache.slabPages += 1
    return true
  }

  /// Returns a descriptor to its cache; an empty slab page goes back to the allocator.
  /// Kernel: `kmem_cache_free()`, `discard_slab()`.
  func descriptorFree(_ address: UInt64) {
    let (pfn, _) = DirectMap.location(address)
    vmBugOn(Format.type(of: memdescWord(pfn)) != .slab, "descriptor at 0x\(String(address, radix: 16)) is not in a slab page")
    let descAddress = slabDescriptor(of: pfn)
    let desc = descriptorPointer(descAddress)
    let cache = descriptorCaches[Int(desc.load(fromByteOffset: SlabDescriptorLayout.cache, as: UInt64.self))]
    let free = desc.load(fromByteOffset: SlabDescriptorLayout.freelist, as: UInt64.self)
    descriptorPointer(address).storeBytes(of: free, as: UInt64.self)
    desc.storeBytes(of: address, toByteOffset: SlabDescriptorLayout.freelist, as: UInt64.self)
    let counters = desc.load(fromByteOffset: SlabDescriptorLayout.counters, as: UInt64.self)
    let inuse = Int(counters & 0xffff) - 1
    desc.storeBytes(of: (counters & ~0xffff) | UInt64(inuse), toByteOffset: SlabDescriptorLayout.counters, as: UInt64.self)
    cache.objects -= 1
    if free == 0 { cache.partial.append(pfn) }  // it was full
    let selfHosted = descAddress == DirectMap.address(pfn)
    if inuse == (selfHosted ? 1 : 0) && cache.emptySlab == nil {
      cache.emptySlab = pfn  // keep one empty slab
    } else if inuse == (selfHosted ? 1 : 0) && cache.emptySlab != pfn {
      // Kernel: discard_slab(): the page goes back, and its struct slab with it.
      if selfHosted { cache.objects -= 1 }
      cache.slabPages -= 1
      let zone = machine.zones[machine.zoneIndex(of: pfn)]
      setMemdescWord(pfn, MiscWord.make(.unknown, order: 0, zone: zone.type, node: zone.node, tag: Format.tag(.misc)))
      freePages(pfn, order: 0)
      if !selfHosted { descriptorFree(descAddress) }
    }
  }

  /// Objects and pages of each descriptor cache.
  public var descriptorStats: [DescriptorCacheStats] {
    descriptorCaches.map { DescriptorCacheStats(kind: $0.kind, objects: $0.objects, pages: $0.slabPages) }
  }
}

extension DescriptorKind {
  @inlinable var index: Int {
    switch self {
    case .folio: 0
    case .largeFolio: 1
    case .hugetlbFolio: 2
    case .slab: 3
    case .ptdesc: 4
    case .hwpoison: 5
    }
  }
}
