import Testing
@testable import PageModel

func flatMachine<E: PageFormat>(_: E.Type, ram: UInt64, base: UInt64 = Kernel.vmemmapBaseL4, allowMisaligned: Bool = false, nodes: Int = 1) throws -> Machine<E> {
  var config = MachineConfig(layout: try PhysicalLayout.flat(ramBytes: ram, nodes: nodes), era: E.era)
  config.vmemmapBase = base
  config.allowMisalignedVmemmap = allowMisaligned
  return try Machine<E>(config)
}

#if canImport(Glibc)
  import Glibc
#endif
