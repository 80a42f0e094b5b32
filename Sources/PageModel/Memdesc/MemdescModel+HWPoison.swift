/// HWPoison in the 8-byte era, as the plan has it: the poisoned page gets a memdesc of
/// its own, type HWPoison, pointing at a `struct hwpoison` that keeps the memdesc the
/// page had, so that unpoisoning puts it back and `page_folio()` still finds the folio
/// the page is part of. Only that page is retyped; the rest of its folio keeps its word.
///
/// Kernel (plan): Memdescs rev B, type 9 (HWPoison); today's `SetPageHWPoison()` on one
/// page (`PF_ANY`) is what it replaces.
extension MemdescModel {
  /// Kernel (plan): `memory_failure()` -> the page's retype to HWPoison.
  func hwPoisonRetype(_ pfn: PFN) throws(MemdescBug) {
    let p = memmap.address(of: pfn)
    let word: UInt64 = memmap.load(p, Format.memdescOffset)
    let type = Format.type(of: word)
    if type == .hwPoison { return }
    if type == .buddy { throw .hwPoisonFreePage(pfn) }
    guard let desc = descriptorAlloc(.hwpoison) else { throw .noDescriptorMemory(.hwpoison) }
    let d = descriptorPointer(desc)
    d.storeBytes(of: word, toByteOffset: HWPoisonLayout.memdesc, as: UInt64.self)
    d.storeBytes(of: pfn.rawValue, toByteOffset: HWPoisonLayout.pfn, as: UInt64.self)
    memmap.set(p, Format.memdescOffset, desc | Format.tag(.hwPoison))
    hwPoisonPages += 1
  }

  /// Kernel: `unpoison_memory()`: the page's memdesc back, the descriptor freed.
  func hwPoisonRestore(_ pfn: PFN) {
    let p = memmap.address(of: pfn)
    let word: UInt64 = memmap.load(p, Format.memdescOffset)
    guard Format.type(of: word) == .hwPoison else { return }
    let desc = word & ~MemdescType.mask
    memmap.set(p, Format.memdescOffset, descriptorPointer(desc).load(fromByteOffset: HWPoisonLayout.memdesc, as: UInt64.self))
    descriptorFree(desc)
    hwPoisonPages -= 1
  }

  /// Undoes the retype of every poisoned page of a block about to be freed, so that the
  /// allocator gets words it knows. The kernel keeps a poisoned page out of the
  /// allocator; the model's allocator has no way to, in any era (memdesc32 and the
  /// 64-byte eras put the page back with its bit still set, memdesc8 without its
  /// retype), so callers unpoison first, as the differential test does.
  func dropHWPoison(_ pfn: PFN, order: Int) {
    guard !Format.hasPageFlags, hwPoisonPages > 0 else { return }
    for i in 0..<(1 << order) { hwPoisonRestore(pfn + i) }
  }
}
