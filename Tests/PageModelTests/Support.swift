import Testing
@testable import PageModel

/// The tests' seeded generator is the library's (SplitMix64).
typealias SplitMix64 = SplitMix

/// The seed for a randomised test: `MEMDESC_SEED` from the environment to replay a run,
/// otherwise a fresh one. The test prints it either way.
func testSeed(_ name: String) -> UInt64 {
  let seed: UInt64
  if let text = getenvString("MEMDESC_SEED"), let s = parseUnsigned(text) {
    seed = s
  } else {
    var g = SystemRandomNumberGenerator()
    seed = g.next()
  }
  print("\(name): seed 0x\(String(seed, radix: 16)) (replay with MEMDESC_SEED=0x\(String(seed, radix: 16)))")
  return seed
}

func getenvString(_ name: String) -> String? {
  guard let p = getenv(name) else { return nil }
  return String(cString: p)
}

func flatConfig(_ era: Era, ram: UInt64, base: UInt64 = Kernel.vmemmapBaseL4, allowMisaligned: Bool = false, nodes: Int = 1) throws -> MachineConfig {
  var config = MachineConfig(layout: try PhysicalLayout.flat(ramBytes: ram, nodes: nodes), era: era)
  config.vmemmapBase = base
  config.allowMisalignedVmemmap = allowMisaligned
  return config
}

/// A flat machine of a 64-byte era.
func flatMachine<E: CompoundEncoding>(_: E.Type, ram: UInt64, base: UInt64 = Kernel.vmemmapBaseL4, allowMisaligned: Bool = false, nodes: Int = 1) throws -> Page64Model<E> {
  try Page64Model<E>(flatConfig(E.era, ram: ram, base: base, allowMisaligned: allowMisaligned, nodes: nodes))
}

/// A flat machine of a memdesc era.
func flatMachine<F: MemdescFormat>(_: F.Type, ram: UInt64, base: UInt64 = Kernel.vmemmapBaseL4, nodes: Int = 1) throws -> MemdescModel<F> {
  try MemdescModel<F>(flatConfig(F.era, ram: ram, base: base, nodes: nodes))
}

#if canImport(Glibc)
  import Glibc
#endif
