/// A hash table from a recorded PFN to one 64-bit word, for the replay's hot loop: open
/// addressing with linear probing and backward-shift deletion over two flat arrays, a
/// multiplicative hash (Fibonacci hashing) instead of the standard library's SipHash,
/// and no per-operation allocation once grown.
struct PFNTable {
  /// No PFN is this (a PFN has at most 52 bits).
  static let empty = UInt64.max
  private var keys: [UInt64]
  private var values: [UInt64]
  private var shift: UInt64
  private(set) var count = 0

  init(capacity: Int = 1 << 12) {
    var bits = 4
    while 1 << bits < capacity * 2 { bits += 1 }
    keys = Array(repeating: Self.empty, count: 1 << bits)
    values = Array(repeating: 0, count: 1 << bits)
    shift = UInt64(64 - bits)
  }

  @inline(__always) private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9e37_79b9_7f4a_7c15) >> shift) }

  func value(_ key: UInt64) -> UInt64? {
    let mask = keys.count - 1
    var i = slot(key)
    while true {
      let k = keys[i]
      if k == key { return values[i] }
      if k == Self.empty { return nil }
      i = (i + 1) & mask
    }
  }

  /// Sets `key` to `value`; returns the value it replaced.
  @discardableResult mutating func set(_ key: UInt64, _ value: UInt64) -> UInt64? {
    if (count + 1) * 2 > keys.count { grow() }
    let mask = keys.count - 1
    var i = slot(key)
    while true {
      let k = keys[i]
      if k == key { let old = values[i]; values[i] = value; return old }
      if k == Self.empty { keys[i] = key; values[i] = value; count += 1; return nil }
      i = (i + 1) & mask
    }
  }

  /// Removes `key`; returns its value. The entries after it in its probe run move back,
  /// so that lookups need no tombstones.
  mutating func remove(_ key: UInt64) -> UInt64? {
    let mask = keys.count - 1
    var i = slot(key)
    while true {
      let k = keys[i]
      if k == Self.empty { return nil }
      if k == key { break }
      i = (i + 1) & mask
    }
    let old = values[i]
    var hole = i
    var j = (i + 1) & mask
    while keys[j] != Self.empty {
      // An entry may fill the hole if its home slot is not between the hole and it.
      let home = slot(keys[j])
      if (j - home) & mask >= (j - hole) & mask {
        keys[hole] = keys[j]
        values[hole] = values[j]
        hole = j
      }
      j = (j + 1) & mask
    }
    keys[hole] = Self.empty
    count -= 1
    return old
  }

  private mutating func grow() {
    var bigger = PFNTable(capacity: keys.count)
    for (k, v) in zip(keys, values) where k != Self.empty { bigger.set(k, v) }
    self = bigger
  }
}
