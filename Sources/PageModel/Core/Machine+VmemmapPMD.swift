extension Machine {
  /// Splits every PMD leaf that covers part of the vmemmap page range `ptes` into a PTE
  /// table mapping the same frames, one new page-table frame from the page allocator
  /// each; false (nothing changed) when the frames cannot be had. HVO remaps single
  /// vmemmap pages, which a PMD cannot express.
  ///
  /// Kernel: `vmemmap_remap_range()` -> `vmemmap_split_pmd()` (`pte_alloc_one_kernel()`).
  func splitVmemmapPMDs(_ ptes: Range<Int>, node: Int) -> Bool {
    let per = VmemmapTable.pagesPerPMD
    let blocks = (ptes.lowerBound / per)..<((ptes.upperBound + per - 1) / per)
    let leaves = blocks.filter { vmemmapTable.pmdLeaf[$0] != 0 }
    var tables: [PFN] = []
    for _ in leaves {
      guard let f = allocPages(order: 0, node: node) else {
        for t in tables { freePages(t, order: 0) }
        return false
      }
      tables.append(f)
    }
    // The PTEs already hold the frames the PMD mapped (the model keeps one entry per
    // 4 KiB either way); the split only changes what the walk goes through.
    for b in leaves { vmemmapTable.pmdLeaf[b] = 0 }
    vmemmapTable.pteTableFrames.append(contentsOf: tables)
    vmemmapTable.pmdSplits += leaves.count
    return true
  }

  /// Makes frames the page allocator gave count as memblock gave them at boot: outside
  /// the zone's managed pages, and in `nr_memmap_boot_pages` when they hold memmap (so
  /// that freeing one later takes the boot path of `free_vmemmap_page()`). The model's
  /// early boot-time optimisation runs the runtime one and then this on the frames it
  /// took, which reaches the counts the kernel's `vmemmap_populate_hvo()` gets from
  /// memblock directly. (Their struct pages keep the allocator's state: the formats
  /// have no way to set PG_reserved again.)
  func adoptAsBootFrames(_ frames: [PFN], memmap isMemmap: Bool) {
    for f in frames {
      zoneCounters[zoneIndex(of: f)].managedPages -= 1
      guard isMemmap else { continue }
      bootAdoptedFrames.insert(f)
      counters.pointee.memmapPages -= 1
      counters.pointee.memmapBootPages += 1
    }
  }
}

extension Machine {
  /// The vmemmap page table, for counting its PMD mappings and PTE tables.
  public var vmemmapPageTable: VmemmapTable { vmemmapTable }
}

extension MemoryModel {
  /// The vmemmap page table of the model's machine.
  public var vmemmapPageTable: VmemmapTable { machine.vmemmapPageTable }
}
