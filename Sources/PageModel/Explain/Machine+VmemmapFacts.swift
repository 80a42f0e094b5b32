extension Machine {
  /// The PTE mapping the struct page of `pfn`, how many PTEs map its frame, and the
  /// frame's role as far as the vmemmap shows it.
  func vmemmapFacts(_ pfn: PFN, headPFN: PFN?) -> (frame: PFN, writable: Bool, mappedBy: Int, role: String) {
    let address = memmap.address(of: pfn)
    let pte = memmap.pte(at: address) ?? VmemmapPTE(rawValue: 0)
    var mappedBy = 0
    for i in 0..<vmemmapTable.count where vmemmapTable.entries[i].isPresent && vmemmapTable.entries[i].frame == pte.frame { mappedBy += 1 }
    let ownIndex = Int((address &- memmap.base) >> UInt64(Kernel.pageShift))
    var role: String
    if let key = hugetlb.vmemmapTails.first(where: { $0.value == pte.frame })?.key {
      role = "the shared read-only tail frame of zone \(zones[key.zone].type) order \(key.order) (64 identical tail struct pages)"
    } else if let headPFN, headPFN != pfn, let hp = memmap.pte(at: memmap.address(of: headPFN)), hp.frame == pte.frame,
      Int((memmap.address(of: headPFN) &- memmap.base) >> UInt64(Kernel.pageShift)) != ownIndex {
      role = "the head's frame: this vmemmap page is a read-only alias of the head's vmemmap page (HVO)"
    } else if mappedBy > 1 {
      role = "a read-only frame shared by the folio's tail vmemmap pages (HVO; the head's vmemmap page keeps a writable frame)"
    } else {
      role = "its own frame"
    }
    if !pte.isWritable && mappedBy == 1 { role += " (read-only)" }
    return (pte.frame, pte.isWritable, mappedBy, role)
  }
}
