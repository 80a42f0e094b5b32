/// How a kernel's /proc/kpageflags is to be read: which artefacts it can show and which
/// causes an all-zero RAM section can have there. Chosen from the snapshot's
/// `kernel_release` (`SnapshotMetadata.kernelRelease`), or given (`--kernel`).
///
/// What each kernel does, from fs/proc/page.c and the HugeTLB vmemmap code:
///
/// | kernels | HVO fake heads | a PFN without an online struct page | KPF_THP |
/// |---|---|---|---|
/// | up to 6.9 | none | NOPAGE | compound page with LRU or ANON on its head |
/// | 6.10 | none | NOPAGE | large folio with LRU or ANON (`stable_page_flags()` rewritten over folios) |
/// | 6.11 - 6.15 | none | NOPAGE | any large rmappable folio (isolated ones too) |
/// | 6.16 | none | 0 | any large rmappable folio |
/// | 6.17 - 7.0 | every 64th PFN of an optimised HugeTLB page reads HEAD | 0 | any large rmappable folio |
/// | 7.1 and later | none | 0 | any large rmappable folio |
///
/// - Fake heads: up to 6.16 `stable_page_flags()` took the head from `page_folio()`, whose
///   `compound_head()` recognises a fake head (`page_fixed_fake_head()`, 5.18) and returns
///   the real one, so the page reads TAIL (before 5.18 HVO remapped onto a page of tails,
///   so there was no fake head to see). 6.17 reads a copy of the struct page
///   (`snapshot_page()`): a fake head's copy has PG_head and no tail bit, so it reads
///   HEAD. 7.1 encodes tails as a mask (`compound_info`), and HVO's shared vmemmap page
///   holds tails only: no fake head exists.
/// - Holes: `kpageflags_read()` takes `pfn_to_online_page()`, NULL for a PFN in a
///   section that is missing or offline; up to 6.15 `stable_page_flags(NULL)` returned
///   KPF_NOPAGE, from 6.16 (`kpage_read()`) such a PFN reads 0. A NOPAGE word is never RAM
///   the kernel can use; inside System RAM it is an offline memory block.
/// - Deferred init: mainline finishes struct-page init (`deferred_init_memmap()`) before
///   user space runs, so a mainline snapshot has no all-zero section from it. Only a kernel
///   of a family in `lazyDeferredInitFamilies` defers it past boot (the fixtures' kernel,
///   `6.18.44-fc-v595`, boots with `deferred_init=lazy`).
///
/// Kernel: stable_page_flags(), kpageflags_read() (fs/proc/page.c).
public struct KernelDecode: Sendable, Equatable, CustomStringConvertible {
  public var major: Int
  public var minor: Int
  /// The release's local part after the version (`fc-v595` in `6.18.44-fc-v595`), or "".
  public var local: String

  /// Local versions whose first word names a kernel family that initialises struct
  /// pages lazily after boot: the fixtures' vendor kernel (`-fc-`).
  public static let lazyDeferredInitFamilies = ["fc"]

  /// What a snapshot without a readable release is decoded as: 6.18, the kernel the
  /// fixtures and the facts of docs/kpageflags.md come from.
  public static let assumed = KernelDecode(major: 6, minor: 18, local: "")

  public init(major: Int, minor: Int, local: String) {
    self.major = major
    self.minor = minor
    self.local = local
  }

  /// Reads `6.18`, `6.18.44`, `6.18.44-fc-v595`, `7.1.0-rc2+`: MAJOR.MINOR, an optional
  /// .PATCH, then an optional local part after '-' or '+'. Nil for anything else.
  public init?(release: String) {
    var rest = Substring(release)
    func number() -> Int? {
      let digits = rest.prefix { $0.isASCII && $0.isNumber }
      guard !digits.isEmpty, digits.count <= 4, let v = Int(digits) else { return nil }
      rest = rest.dropFirst(digits.count)
      return v
    }
    guard let major = number(), rest.first == "." else { return nil }
    rest = rest.dropFirst()
    guard let minor = number() else { return nil }
    if rest.first == "." {
      rest = rest.dropFirst()
      guard number() != nil else { return nil }
    }
    if let c = rest.first {
      guard c == "-" || c == "+" else { return nil }
      rest = rest.dropFirst()
    }
    guard rest.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else { return nil }
    self.init(major: major, minor: minor, local: String(rest))
  }

  /// The decode of a snapshot: its release's, else `assumed`.
  public static func of(release: String?) -> KernelDecode {
    release.flatMap { KernelDecode(release: $0) } ?? assumed
  }

  var version: Int { major * 1000 + minor }

  /// Whether HugeTLB pages with HVO read a HEAD every 64 PFNs (6.17 to 7.0).
  public var showsFakeHeads: Bool { version >= 6017 && version < 7001 }
  /// Whether a PFN without an online struct page reads KPF_NOPAGE (up to 6.15) rather than 0.
  public var marksNoPage: Bool { version < 6016 }
  /// Whether KPF_THP is set on every large rmappable folio (6.11 on, where
  /// `folio_test_large_rmappable()` replaced the LRU-or-anon test) rather than only on
  /// large folios on the LRU or anonymous.
  public var thpMeansLargeRmappable: Bool { version >= 6011 }
  /// Whether whole sections can still be waiting for struct-page init when user space runs.
  public var defersStructPageInit: Bool {
    let family = local.split(whereSeparator: { $0 == "-" || $0 == "." || $0 == "_" }).first.map(String.init) ?? ""
    return Self.lazyDeferredInitFamilies.contains(family)
  }

  /// `6.18` or `6.18-fc-v595`.
  public var description: String { local.isEmpty ? "\(major).\(minor)" : "\(major).\(minor)-\(local)" }
}

/// Why a RAM section reads zero in every word (`Census.zeroSections`).
public enum ZeroSectionCause: String, CaseIterable, Sendable {
  /// The section is in a memory block that was offline at capture (the snapshot's
  /// `memory-blocks`), or it reads KPF_NOPAGE (a kernel up to 6.15).
  case offline
  /// The kernel defers struct-page init past boot (`KernelDecode.defersStructPageInit`).
  case deferredInit = "deferred_init"
  /// Neither: the kernel left the section's struct pages blank for a reason the snapshot
  /// does not record.
  case unknown

  /// The words a person reads.
  public var label: String {
    switch self {
    case .offline: "offline memory"
    case .deferredInit: "deferred init"
    case .unknown: "reads zero, cause unknown"
    }
  }

  /// The page class of its RAM in metrics, fleet rows and `diff` (`Census.classPages`).
  public var className: String {
    switch self {
    case .offline: "zero_offline"
    case .deferredInit: "deferred_init"
    case .unknown: "zero_unknown"
    }
  }
}
