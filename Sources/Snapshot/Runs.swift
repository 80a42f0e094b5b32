/// Runs of equal words in a kpage array: most of one is long runs (holes, free blocks,
/// a THP's tails), so scanners step over them eight words at a time.
enum KPageRuns {
  /// One past the last index of the run of words equal to `p[i]` that starts at `i`,
  /// looking no further than `n`.
  @inline(__always)
  static func end(_ p: UnsafePointer<UInt64>, from i: Int, count n: Int) -> Int {
    let v = p[i]
    var j = i &+ 1
    // Inside a run: eight words a step, one branch.
    while j &+ 8 <= n {
      let d = (p[j] ^ v) | (p[j &+ 1] ^ v) | (p[j &+ 2] ^ v) | (p[j &+ 3] ^ v)
        | (p[j &+ 4] ^ v) | (p[j &+ 5] ^ v) | (p[j &+ 6] ^ v) | (p[j &+ 7] ^ v)
      if d != 0 { break }
      j &+= 8
    }
    while j < n && p[j] == v { j &+= 1 }
    return j
  }
}
