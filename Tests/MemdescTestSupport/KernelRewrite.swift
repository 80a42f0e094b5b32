import PageModel

/// Rewrites of real kpageflags words into what another kernel would have reported for
/// the same pages: there is no 7.1 or 6.16 machine to capture, so their snapshots are
/// derived from a 6.18 capture.
public enum KernelRewrite {
  /// The words of `words` (kpageflags of a 6.17-7.0 kernel with HVO, PFN 0 first) as a
  /// kernel that shows no HVO fake heads reports them: 6.16 and earlier (whose
  /// `page_folio()` resolves a fake head to its real head, so the page reads TAIL) and 7.1
  /// and later (whose HVO maps only tail struct pages). Each HugeTLB page keeps its real
  /// head; every other PFN of it that reads COMPOUND_HEAD becomes a tail: the same word
  /// with COMPOUND_TAIL for COMPOUND_HEAD (per-page bits such as HWPOISON are kept, as the
  /// kernel keeps them). Nothing outside HugeTLB pages changes.
  ///
  /// A HugeTLB page is found by its head: at a 1 GiB-aligned PFN whose whole 1 GiB reads
  /// HUGE it is a 1 GiB page, else at a 2 MiB-aligned PFN whose whole 2 MiB reads HUGE a
  /// 2 MiB page (512 2 MiB pages filling one aligned GiB would be taken as one 1 GiB page:
  /// the words cannot tell them apart). Returns how many fake heads were rewritten.
  @discardableResult
  public static func removeFakeHeads(_ words: inout [UInt64], pageSize: Int = 4096) -> Int {
    let head = KPF.compoundHead.mask, tail = KPF.compoundTail.mask, huge = KPF.huge.mask
    let pmd = (2 << 20) / pageSize, pud = (1 << 30) / pageSize
    var rewritten = 0
    var p = 0
    func allHuge(_ from: Int, _ n: Int) -> Bool {
      guard from + n <= words.count else { return false }
      return words[from..<(from + n)].allSatisfy { $0 & huge != 0 }
    }
    while p < words.count {
      let w = words[p]
      guard w & huge != 0, w & head != 0 else {
        p += 1
        continue
      }
      let size = p % pud == 0 && allHuge(p, pud) ? pud : p % pmd == 0 && allHuge(p, pmd) ? pmd : 0
      guard size > 0 else {
        p += 1
        continue
      }
      for q in (p + 1)..<(p + size) where words[q] & head != 0 {
        words[q] = (words[q] & ~head) | tail
        rewritten += 1
      }
      p += size
    }
    return rewritten
  }
}
