import Testing
@testable import PageModel

func flatConfig(_ era: Era, ram: UInt64, base: UInt64 = Kernel.vmemmapBaseL4, allowMisaligned: Bool = false, nodes: Int = 1) throws -> MachineConfig {
  var config = MachineConfig(layout: try PhysicalLayout.flat(ramBytes: ram, nodes: nodes), era: era)
  config.vmemmapBase = base
  config.strictAlignment = !allowMisaligned
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
