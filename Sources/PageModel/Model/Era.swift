/// The four eras of the kernel's page descriptor that the model runs.
public enum Era: String, CaseIterable, Sendable, Codable {
  /// Linux up to 7.0: 64-byte struct page, tails store `head | 1`, HVO makes fake heads.
  case classic
  /// Linux 7.1 ("Eliminate fake head pages"): tails store `mask | 1`.
  case mask
  /// Wilcox's memdesc step: a 32-byte struct page with separately allocated descriptors.
  case memdesc32
  /// The memdesc end state: an 8-byte typed memdesc word per page.
  case memdesc8

  /// `sizeof(struct page)` in this era.
  public var structPageBytes: Int {
    switch self {
    case .classic, .mask: 64
    case .memdesc32: 32
    case .memdesc8: 8
    }
  }
}
