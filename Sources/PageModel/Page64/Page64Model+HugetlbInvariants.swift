/// The behavioural invariants of HugeTLB and HVO (docs/hvo.md, I1-I9), checked on
/// demand. Tests run them after every operation of random pool sequences.
extension Page64Model {
  /// Checks every hugetlb pool folio and the vmemmap that describes it:
  ///
  /// - I1: every tail's `compound_info` is the era's encoding (`mask(o) | 1` in the mask
  ///   era, independent of the head; `head | 1` in the classic era).
  /// - I2: `compoundHead` of every page of the folio is its head.
  /// - I3: an optimised folio's vmemmap page 0 maps a private writable frame and pages
  ///   1..N-1 map one read-only frame: the head's (classic) or the zone's shared tail for
  ///   the order (mask). A folio that is not optimised has N writable frames of its own.
  /// - I4: each shared tail frame holds 64 identical tails (node and zone bits,
  ///   `mask | 1`, TAIL_MAPPING, private 0, `_mapcount` -1, refcount 0, no memcg).
  /// - I5: PG_head reads once per folio in the mask era; in the classic era once per
  ///   vmemmap page of an optimised folio (the fake heads) and once otherwise.
  /// - I6: a speculative reference on any read-only struct page does not write.
  /// - I7: pool folios are frozen (refcount 0) and typed hugetlb, and carry
  ///   `HPG_vmemmap_optimized` exactly when optimised.
  /// - I9: shared tail frames stay allocated (at most 16 per zone).
  /// - Accounting: vmstat's memmap count equals the distinct frames the vmemmap maps,
  ///   shared tails aside; the static key counts the optimised folios (classic).
  ///
  /// - Complexity: O(vmemmap pages + pages of pool folios).
  public func checkHugetlbInvariants() throws(InvariantViolation) {
    var optimizedSeen = 0
    for h in hugetlb.hstates {
      for folio in h.folios {
        let head = page(folio.pfn)
        let order = folioOrder(folio)
        guard order == h.order else { throw InvariantViolation("pool folio \(folio) has order \(order), its hstate \(h.order)") }
        // I7
        let ref: UInt32 = memmap.load(head, StructPageLayout.refcount)
        let type: UInt32 = memmap.load(head, StructPageLayout.mapcount)
        guard ref == 0 else { throw InvariantViolation("pool folio \(folio) is not frozen: refcount \(ref)") }
        guard PageType.of(type) == .hugetlb else { throw InvariantViolation("pool folio \(folio) lacks the hugetlb page type") }
        let priv: UInt64 = memmap.load(head, StructPageLayout.private)
        let optimized = hugetlb.optimized.contains(folio.pfn)
        guard (priv & HugetlbState.hpgVmemmapOptimized != 0) == optimized else {
          throw InvariantViolation("pool folio \(folio): HPG_vmemmap_optimized disagrees with the optimised set")
        }
        if optimized { optimizedSeen += 1 }
        // I1, I2, I5
        let info = Format.tailInfo(headAddress: head, order: order)
        var headsRead = 0
        for n in 0..<(1 << order) {
          let p = head &+ UInt64(n << Kernel.structPageShift)
          let flags: UInt64 = memmap.load(p, StructPageLayout.flags)
          if flags & PageFlag.head.mask != 0 { headsRead += 1 }
          if n > 0 && (!Format.hvoAliasesHead || !optimized || n % Kernel.structPagesPerVmemmapPage != 0) {
            let word: UInt64 = memmap.load(p, StructPageLayout.compoundInfo)
            guard word == info else { throw InvariantViolation("I1: tail \(n) of \(folio) holds 0x\(String(word, radix: 16)), expected 0x\(String(info, radix: 16))") }
          }
          guard compoundHead(folio.pfn + n) == folio.pfn else { throw InvariantViolation("I2: compound_head of page \(n) of \(folio) is \(compoundHead(folio.pfn + n))") }
        }
        let ptes = machine.vmemmapPTERange(folio, order: order)
        let expectedHeads = Format.hvoAliasesHead && optimized ? ptes.count : 1
        guard headsRead == expectedHeads else { throw InvariantViolation("I5: \(folio) reads PG_head \(headsRead) times, expected \(expectedHeads)") }
        // I3
        let first = machine.vmemmapTable.entries[ptes.lowerBound]
        guard first.isPresent && first.isWritable else { throw InvariantViolation("I3: head vmemmap page of \(folio) is not writable") }
        if optimized {
          let shared: PFN
          if Format.hvoAliasesHead {
            shared = first.frame
          } else {
            guard let t = hugetlb.vmemmapTails[HugetlbState.Key(zone: machine.zoneIndex(ofPage: head), order: order)] else {
              throw InvariantViolation("I3: optimised \(folio) but its zone has no shared tail")
            }
            shared = t
          }
          for i in ptes.dropFirst() {
            let pte = machine.vmemmapTable.entries[i]
            guard pte.isPresent, !pte.isWritable, pte.frame == shared else {
              throw InvariantViolation("I3: vmemmap page \(i - ptes.lowerBound) of \(folio) maps \(pte.frame) writable=\(pte.isWritable), expected \(shared) read-only")
            }
          }
        } else {
          var frames = Set<PFN>()
          for i in ptes {
            let pte = machine.vmemmapTable.entries[i]
            guard pte.isPresent, pte.isWritable, frames.insert(pte.frame).inserted else {
              throw InvariantViolation("I3: vmemmap of unoptimised \(folio) is not N private writable frames")
            }
          }
        }
      }
    }
    guard optimizedSeen == hugetlb.optimized.count else { throw InvariantViolation("optimised set names folios outside the pools") }
    if Format.hvoAliasesHead {
      guard counters.pointee.hugetlbOptimizeVmemmapKey == optimizedSeen else {
        throw InvariantViolation("static key count \(counters.pointee.hugetlbOptimizeVmemmapKey) but \(optimizedSeen) optimised folios")
      }
    }
    // I4, I9
    var perZone: [Int: Int] = [:]
    for (key, frame) in hugetlb.vmemmapTails {
      perZone[key.zone, default: 0] += 1
      let fp = page(frame)
      guard memmap.load(fp, StructPageLayout.refcount, as: UInt32.self) >= 1, !machine.isBuddy(fp) else {
        throw InvariantViolation("I9: shared tail frame \(frame) was freed")
      }
      let p = machine.memory.frame(frame)
      let z = machine.zones[key.zone]
      let info = Format.tailInfo(headAddress: 0, order: key.order)
      for slot in 0..<Kernel.structPagesPerVmemmapPage {
        let s = p + slot * Kernel.structPageSize
        let ok = s.load(fromByteOffset: StructPageLayout.flags, as: UInt64.self) == PageFlagsLayout.links(zone: z.type, node: z.node)
          && s.load(fromByteOffset: StructPageLayout.compoundInfo, as: UInt64.self) == info
          && s.load(fromByteOffset: StructPageLayout.mapping, as: UInt64.self) == Kernel.tailMapping
          && s.load(fromByteOffset: StructPageLayout.private, as: UInt64.self) == 0
          && s.load(fromByteOffset: StructPageLayout.mapcount, as: UInt32.self) == PageType.noType
          && s.load(fromByteOffset: StructPageLayout.refcount, as: UInt32.self) == 0
          && s.load(fromByteOffset: StructPageLayout.memcgData, as: UInt64.self) == 0
        guard ok else { throw InvariantViolation("I4: struct page \(slot) of shared tail frame \(frame) (zone \(z.name), order \(key.order)) is not a plain tail") }
      }
    }
    for (zone, count) in perZone where count > 16 { throw InvariantViolation("I9: zone \(machine.zones[zone].name) has \(count) shared tails, more than NR_VMEMMAP_TAILS") }
    // Accounting: distinct frames behind the vmemmap, shared tails aside.
    let tails = Set(hugetlb.vmemmapTails.values)
    var mapped = [UInt64](repeating: 0, count: (Int(layout.endPFN.rawValue) + 63) / 64 + 1)
    var distinct = 0
    for i in 0..<machine.vmemmapTable.count {
      let pte = machine.vmemmapTable.entries[i]
      guard pte.isPresent, !tails.contains(pte.frame) else { continue }
      let f = pte.frame.rawValue
      let (word, bit) = (Int(f >> 6), UInt64(1) << (f & 63))
      if mapped[word] & bit == 0 { mapped[word] |= bit; distinct += 1 }
    }
    guard distinct == memmapFrames else {
      throw InvariantViolation("vmstat memmap count \(memmapFrames) but the vmemmap maps \(distinct) distinct frames")
    }
    // I6
    for i in 0..<machine.vmemmapTable.count where machine.vmemmapTable.entries[i].isPresent && !machine.vmemmapTable.entries[i].isWritable {
      let base = memmap.base &+ UInt64(i << Kernel.pageShift)
      for slot in stride(from: 0, to: Kernel.structPagesPerVmemmapPage, by: 21) {
        let pfn = memmap.pfn(ofPageAt: base &+ UInt64(slot * Kernel.structPageSize))
        do {
          if try pageRefAddUnless(pfn, 1, 0) { throw InvariantViolation("I6: a speculative reference took a read-only struct page at \(pfn)") }
        } catch let fault as VmemmapFault {
          throw InvariantViolation("I6: a speculative reference wrote to a read-only struct page: \(fault)")
        } catch let e as InvariantViolation {
          throw e
        } catch {}
      }
    }
  }
}
